"""Deploy form vs official graph: torch.export op counts and eager PyTorch latency, per variant.

Runs of the two forms are interleaved (ABAB...) in one process so machine noise hits both alike;
the ratio is what to read. Writes benchmarks/results/deploy_form.{json,md}.

    python benchmarks/deploy_form.py [--variants efficientmod_xxs,...] [--runs 30] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

from effmod.deploy import reparameterize  # noqa: E402
from effmod.deploy.graph_stats import export_op_summary  # noqa: E402
from effmod.models import create_model, list_models  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def interleaved_ms(a, b, x, runs: int) -> tuple[float, float]:
    ta, tb = [], []
    with torch.inference_mode():
        for _ in range(3):
            a(x), b(x)
        for _ in range(runs):
            for f, acc in ((a, ta), (b, tb)):
                t = time.perf_counter()
                f(x)
                acc.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(list_models()))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--img-size", type=int, default=224)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.randn(1, 3, args.img_size, args.img_size)
    rows = []
    for name in track(args.variants.split(","), description="variants"):
        model = create_model(name)
        deployed = reparameterize(model)
        before, after = export_op_summary(model, args.img_size), export_op_summary(deployed, args.img_size)
        official_ms, deploy_ms = interleaved_ms(model, deployed, x, args.runs)
        rows.append({"variant": name, "ops_official": before, "ops_deploy": after,
                     "eager_ms_official": official_ms, "eager_ms_deploy": deploy_ms,
                     "speedup": official_ms / deploy_ms})
    result = {"benchmark": "deploy_form", "threads": args.threads, "runs": args.runs, "img_size": args.img_size,
              "machine": machine_info(), "rows": rows}
    OUT.mkdir(exist_ok=True)
    (OUT / "deploy_form.json").write_text(json.dumps(result, indent=2) + "\n")
    cols = ("variant", "permute/transpose", "repeat", "layer_norm", "batch_norm", "total ops",
            "eager official ms", "eager deploy ms", "speedup")
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    table = Table(title=f"deploy form vs official (torch {torch.__version__}, {args.threads} threads, median of {args.runs})")
    for c in cols:
        table.add_column(c)
    for r in rows:
        b, a = r["ops_official"], r["ops_deploy"]
        cells = [r["variant"]] + [f"{b[k]} → {a[k]}" for k in ("permute/transpose", "repeat", "layer_norm", "batch_norm", "total")]
        cells += [f"{r['eager_ms_official']:.1f}", f"{r['eager_ms_deploy']:.1f}", f"{r['speedup']:.2f}×"]
        table.add_row(*cells)
        md.append("| " + " | ".join(cells) + " |")
    Console().print(table)
    m = result["machine"]
    md.append(f"\n{m['cpu']}, {m['cores']} cores, torch {m['versions']['torch']}, {args.threads} threads, "
              f"batch 1, {args.img_size}², median of {args.runs} interleaved runs.")
    (OUT / "deploy_form.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
