"""Wall time of `effmod-export --target all` per variant, each in a fresh process (imports included,
as a user sees it). Writes benchmarks/results/export_time.{json,md}.

    python benchmarks/export_time.py [--variants efficientmod_xxs,...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="efficientmod_xxs")
    args = ap.parse_args()
    rows = []
    for name in args.variants.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "effmod.cli", "export", "--target", "all", "--model", name,
                                   "--output", tmp, "--json", f"{tmp}/run.json"], capture_output=True, text=True)
            wall = time.perf_counter() - t0
            per_target = {}
            if Path(f"{tmp}/run.json").is_file():
                per_target = {m["target"]: m["export_seconds"] for m in json.loads(Path(f"{tmp}/run.json").read_text())}
        rows.append({"variant": name, "wall_s": round(wall, 1), "exit_code": proc.returncode, "convert_s": per_target})
    OUT.mkdir(exist_ok=True)
    (OUT / "export_time.json").write_text(json.dumps({"benchmark": "export_time", "machine": machine_info(),
                                                      "goal_s": 90, "rows": rows}, indent=2) + "\n")
    table = Table(title="effmod-export --target all (wall, fresh process; goal < 90 s)")
    md = ["| variant | wall s | coreml | tflite | executorch | onnx | exit |", "|---|---|---|---|---|---|---|"]
    for c in ("variant", "wall s", "coreml", "tflite", "executorch", "onnx", "exit"):
        table.add_column(c)
    for r in rows:
        cells = [r["variant"], f"{r['wall_s']:.1f}"] + [f"{r['convert_s'].get(t, float('nan')):.1f}"
                                                         for t in ("coreml", "tflite", "executorch", "onnx")]
        cells.append(str(r["exit_code"]))
        table.add_row(*cells)
        md.append("| " + " | ".join(cells) + " |")
    Console().print(table)
    m = machine_info()
    md.append(f"\n{m['cpu']}, {m['cores']} cores; convert columns are seconds inside the run (parity excluded).")
    (OUT / "export_time.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
