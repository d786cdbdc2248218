"""Speed of effmod's ML-program executor (Core ML artifacts run on Linux): load time and per-image
time for each variant at 224, fp32 and fp16, plus the time per op type for xxs fp16.
Writes benchmarks/results/coreml_executor.{json,md}. Goal: xxs at 224 under 1 s per image.

    python benchmarks/coreml_executor.py [--variants efficientmod_xxs,...] [--runs 10] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_table, machine_info  # noqa: E402

from effmod.deploy import reparameterize  # noqa: E402
from effmod.targets.coreml import COREML  # noqa: E402
from effmod.targets import ExportJob  # noqa: E402
from effmod.models import create_model  # noqa: E402
from effmod.targets.coreml.mlprogram import Executor, load_program  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
GOAL_S = 1.0


def measure(path: Path, runs: int) -> dict:
    t0 = time.perf_counter()
    program = load_program(path)
    executor = Executor(program)
    load_s = time.perf_counter() - t0
    (name, info), = program.inputs.items()
    x = np.random.default_rng(0).standard_normal(info.shape).astype(np.float16 if info.dtype == "float16" else np.float32)
    executor.run({name: x})  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        executor.run({name: x})
        times.append(time.perf_counter() - t)
    profiler = Executor(program, profile=True)
    profiler.run({name: x})
    per_type = dict(sorted(profiler.last_stats.per_type_seconds.items(), key=lambda kv: -kv[1]))
    return {"load_s": round(load_s, 3), "median_ms": round(statistics.median(times) * 1e3, 1),
            "min_ms": round(min(times) * 1e3, 1), "ops": len(executor.ops),
            "per_op_type_ms": {k: round(v * 1e3, 2) for k, v in list(per_type.items())[:8]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="efficientmod_xxs,efficientmod_xs,efficientmod_s,efficientmod_s_conv")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants.split(","):
            model = create_model(name)
            x = torch.randn(1, 3, 224, 224)
            for precision in ("fp32", "fp16"):
                path = Path(tmp) / f"{name}_{precision}.mlpackage"
                job = ExportJob(model=reparameterize(model), example=x, precision=precision,
                                data_config=model.info.data_config, model_name=name)
                COREML.convert(job, path)
                rows.append({"variant": name, "precision": precision, **measure(path, args.runs)})
                print(rows[-1], flush=True)
    result = {"benchmark": "coreml_executor", "machine": machine_info(), "threads": args.threads,
              "goal_s_per_image": GOAL_S, "rows": rows}
    OUT.mkdir(exist_ok=True)
    (OUT / "coreml_executor.json").write_text(json.dumps(result, indent=2) + "\n")
    cells = []
    for r in rows:
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(r["per_op_type_ms"].items())[:3])
        cells.append([r["variant"], r["precision"], str(r["ops"]), f"{r['load_s']:.2f}", f"{r['median_ms']:.1f}",
                      f"{r['min_ms']:.1f}", top])
    m = machine_info()
    emit_table(f"effmod ML-program executor, 224×224, batch 1, {args.threads} threads (goal < {GOAL_S:g} s/image)",
               ["variant", "precision", "ops", "load s", "median ms", "min ms", "top op types (ms)"], cells,
               OUT / "coreml_executor.md",
               f"{m['cpu']}, {m['cores']} cores, {args.threads} threads, {args.runs} runs after one warm-up; "
               "load = parse spec + read weight blob + precompute constants.")


if __name__ == "__main__":
    main()
