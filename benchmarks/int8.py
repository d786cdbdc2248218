"""INT8 vs fp32 per target: size, SQNR (from the export's parity step) and latency, for xxs at 224.
Each runtime is timed in its own process; inside it the fp32 and INT8 artifacts run interleaved, so
the ratio is measured under the same machine load. Writes benchmarks/results/int8.{json,md}.

    python benchmarks/int8.py [--weights CKPT] [--calib DIR] [--threads 2] [--runs 40]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import GOLDEN, OUT, emit_table, export_artifact, machine_info, time_interleaved  # noqa: E402
TARGETS = ("executorch", "tflite", "onnx")
GOAL = {"executorch": 1.25, "tflite": 1.25}

def export(target: str, precision: str, out: Path, weights: str | None, calib: str | None) -> dict:
    args = ["--target", target, "--precision", precision, "--output", str(out)]
    args += ["--weights", weights] if weights else []
    args += ["--calib", calib] if calib and precision == "int8" else []
    return export_artifact(args, out / f"{target}_{precision}.json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(GOLDEN) if GOLDEN.is_file() else None)
    ap.add_argument("--calib", help="calibration folder (default: the built-in sample photos)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for target in TARGETS:
            fp32 = export(target, "fp32", out, args.weights, args.calib)
            int8 = export(target, "int8", out, args.weights, args.calib)
            paths = {"fp32": fp32["path"], "int8": int8["path"]}
            t = {k: {"median_ms": v} for k, v in time_interleaved(paths, args.threads, args.runs).items()}
            pm = int8["parity"]["metrics"]
            rows.append({
                "target": target,
                "fp32_ms": round(t["fp32"]["median_ms"], 2), "int8_ms": round(t["int8"]["median_ms"], 2),
                "speedup": round(t["fp32"]["median_ms"] / t["int8"]["median_ms"], 2), "goal_speedup": GOAL.get(target),
                "fp32_mb": round(fp32["artifact_bytes"] / 1e6, 2), "int8_mb": round(int8["artifact_bytes"] / 1e6, 2),
                "size_ratio": round(int8["artifact_bytes"] / fp32["artifact_bytes"], 3),
                "sqnr_vs_fp32_db": round(pm["sqnr_db"], 1), "top1_agreement": pm["top1_agreement"],
                "sqnr_vs_fake_quant_db": round(int8["parity"]["vs_fake_quant"]["metrics"]["sqnr_db"], 1)
                if "vs_fake_quant" in int8["parity"] else None,
                "delegation": int8.get("delegation"), "recipe": int8.get("quantization"),
            })
            print(rows[-1]["target"], rows[-1]["speedup"], flush=True)
    calib_note = args.calib or "built-in sample photos (6)"
    result = {"benchmark": "int8", "machine": machine_info(), "threads": args.threads, "runs": args.runs,
              "weights": args.weights, "calibration": calib_note, "date": time.strftime("%Y-%m-%d"), "rows": rows}
    OUT.mkdir(exist_ok=True)
    (OUT / "int8.json").write_text(json.dumps(result, indent=2) + "\n")
    cells = []
    for r in rows:
        goal = f" ({r['goal_speedup']:g}×)" if r["goal_speedup"] else ""
        cells.append([r["target"], f"{r['fp32_ms']:.2f}", f"{r['int8_ms']:.2f}", f"{r['speedup']:.2f}×{goal}",
                      f"{r['fp32_mb']:.1f}", f"{r['int8_mb']:.1f}", f"{r['size_ratio']:.2f}",
                      f"{r['sqnr_vs_fp32_db']:.1f} dB",
                      "-" if r["sqnr_vs_fake_quant_db"] is None else f"{r['sqnr_vs_fake_quant_db']:.1f} dB",
                      f"{r['top1_agreement']:.0%}"])
    m = machine_info()
    emit_table(f"INT8 vs fp32, xxs 224, batch 1, {args.threads} threads, median of {args.runs} interleaved runs",
               ["target", "fp32 ms", "int8 ms", "speedup (goal)", "fp32 MB", "int8 MB", "size ×", "SQNR vs fp32",
                "SQNR vs fake-quant", "top-1 agr."], cells, OUT / "int8.md",
               f"{m['cpu']}, {m['cores']} cores, {args.threads} threads; calibration: {calib_note}; "
               "SQNR and top-1 agreement on the 6 built-in photos against the original fp32 PyTorch model; "
               "ONNX sessions without thread spinning (several share the timing process).")


if __name__ == "__main__":
    main()
