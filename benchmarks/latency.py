"""Naive conversion vs effmod's deploy form, fp32 vs INT8, per runtime (xxs at 224 by default).

For each variant: export the official graph as-is ("naive", fp32), the deploy form fp32 and the deploy
form INT8 for onnx, tflite and executorch; then time the three artifacts of one runtime *interleaved*
in one fresh process (same machine load for all three), each runtime in its own process. Reports
ratios, GMAC/s achieved (MACs counted by torch's FLOP counter) and that as a share of an estimated
peak of this CPU. Writes benchmarks/results/latency.{json,md}.

    python benchmarks/latency.py [--variants efficientmod_xxs,...] [--calib DIR] [--threads 2] [--runs 40]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_table, export_artifact, machine_info, time_interleaved  # noqa: E402

from effmod.export.graph_stats import count_macs  # noqa: E402
from effmod.models import create_model  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO.parent / "shared/reference/efficientmod_xxs_seed0_official_format.pth"
TARGETS = ("onnx", "tflite", "executorch")
FORMS = {"naive fp32": ["--precision", "fp32", "--no-deploy-form"], "deploy fp32": ["--precision", "fp32"],
         "deploy int8": ["--quantize", "int8"]}

def peak_gmacs(cores: int) -> dict:
    """Rough peak of this CPU: cores × 2 AVX-512 FMA units × 16 fp32 lanes × clock (fp32); VNNI does
    4 INT8 MACs per fp32 lane. An estimate from /proc/cpuinfo, labelled as such in the results."""
    mhz = 0.0
    try:
        mhz = max(float(line.split(":")[1]) for line in open("/proc/cpuinfo") if line.startswith("cpu MHz"))
    except (OSError, ValueError):
        pass
    fp32 = cores * 2 * 16 * mhz / 1e3
    return {"clock_mhz": mhz, "fp32_gmacs": fp32, "int8_gmacs": fp32 * 4,
            "assumption": "2 AVX-512 FMA units/core, 16 fp32 lanes, VNNI 4 int8 MACs per lane, base clock"}


def export(variant: str, target: str, form: str, out: Path, calib: str | None, weights: str | None) -> dict:
    tag = form.replace(" ", "_")
    args = ["--target", target, "--model", variant, *FORMS[form], "--output", str(out / tag)]
    args += ["--calib", calib] if calib and "int8" in form else []
    if weights and variant == "efficientmod_xxs":
        # Random-init naive xxs makes TFLite's XNNPACK delegate fail to prepare (6 FULLY_CONNECTED on the
        # repeat's 8-D tensors); with the reference weights the naive graph loads, split over 7 partitions.
        args += ["--weights", weights]
    return export_artifact(args, out / f"{target}_{tag}.json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="efficientmod_xxs")
    ap.add_argument("--calib", help="INT8 calibration folder (default: built-in photos)")
    ap.add_argument("--weights", default=str(GOLDEN) if GOLDEN.is_file() else None, help="xxs checkpoint")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    peak = peak_gmacs(min(args.threads, os.cpu_count() or 1))
    rows = []
    for variant in args.variants.split(","):
        macs = count_macs(create_model(variant), torch.randn(1, 3, 224, 224))
        with tempfile.TemporaryDirectory() as tmp:
            for target in TARGETS:
                arts = {form: export(variant, target, form, Path(tmp), args.calib, args.weights) for form in FORMS}
                paths = {form: m["path"] for form, m in arts.items()}
                ms = time_interleaved(paths, args.threads, args.runs)
                d = arts["deploy fp32"].get("delegation") or {}
                n = arts["naive fp32"].get("delegation") or {}
                rows.append({
                    "variant": variant, "target": target, "gmacs": round(macs / 1e9, 3),
                    **{f"{f.replace(' ', '_')}_ms": round(v, 2) for f, v in ms.items()},
                    "deploy_vs_naive": round(ms["naive fp32"] / ms["deploy fp32"], 2),
                    "int8_vs_deploy_fp32": round(ms["deploy fp32"] / ms["deploy int8"], 2),
                    "int8_vs_naive_fp32": round(ms["naive fp32"] / ms["deploy int8"], 2),
                    "gmac_per_s_fp32": round(macs / 1e9 / (ms["deploy fp32"] / 1e3), 1),
                    "gmac_per_s_int8": round(macs / 1e9 / (ms["deploy int8"] / 1e3), 1),
                    "partitions_naive": n.get("partitions"), "partitions_deploy": d.get("partitions"),
                    "int8_sqnr_db": round(arts["deploy int8"]["parity"]["metrics"]["sqnr_db"], 1),
                })
                print(rows[-1], flush=True)
    onnx_naive = {r["variant"]: r["naive_fp32_ms"] for r in rows if r["target"] == "onnx"}
    for r in rows:  # cross-runtime ratio: separate processes, so less exact than the in-process ratios
        r["int8_vs_naive_onnx_fp32"] = round(onnx_naive[r["variant"]] / r["deploy_int8_ms"], 2)
    OUT.mkdir(exist_ok=True)
    result = {"benchmark": "latency", "machine": machine_info(), "threads": args.threads, "runs": args.runs,
              "calibration": args.calib or "built-in sample photos", "peak_estimate": peak,
              "date": time.strftime("%Y-%m-%d"), "rows": rows}
    (OUT / "latency.json").write_text(json.dumps(result, indent=2) + "\n")
    cells = [[r["variant"], r["target"], f"{r['naive_fp32_ms']:.2f}", f"{r['deploy_fp32_ms']:.2f}",
              f"{r['deploy_int8_ms']:.2f}", f"{r['deploy_vs_naive']:.2f}×", f"{r['int8_vs_deploy_fp32']:.2f}×",
              f"{r['int8_vs_naive_onnx_fp32']:.2f}×",
              f"{r['gmac_per_s_fp32']:.0f} ({r['gmac_per_s_fp32'] / peak['fp32_gmacs']:.0%})" if peak["fp32_gmacs"] else "-",
              f"{r['gmac_per_s_int8']:.0f} ({r['gmac_per_s_int8'] / peak['int8_gmacs']:.0%})" if peak["int8_gmacs"] else "-",
              f"{r['partitions_naive'] or '-'} → {r['partitions_deploy'] or '-'}"] for r in rows]
    m = machine_info()
    emit_table(f"naive vs deploy vs INT8, batch 1, {args.threads} threads, median of {args.runs} interleaved runs",
               ["variant", "runtime", "naive fp32 ms", "deploy fp32 ms", "deploy int8 ms", "deploy/naive",
                "int8/fp32", "int8 vs naive ONNX", "GMAC/s fp32 (% peak)", "GMAC/s int8 (% peak)",
                "XNNPACK partitions"], cells, OUT / "latency.md",
               f"{m['cpu']}, {m['cores']} cores, {args.threads} threads; 224², batch 1. The three forms of one runtime are "
               f"timed interleaved in one process. 'int8 vs naive ONNX' compares across processes. Peak is an estimate: "
               f"{peak['fp32_gmacs']:.0f} GMAC/s fp32, {peak['int8_gmacs']:.0f} int8 ({peak['assumption']}, "
               f"{peak['clock_mhz']:.0f} MHz). INT8 calibration: {args.calib or 'built-in sample photos'}.")


if __name__ == "__main__":
    main()
