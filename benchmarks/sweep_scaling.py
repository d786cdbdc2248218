"""The same `effmod sweep` grid with 1 and with 2 workers on this machine (a local Ray instance), each
from an empty cache: wall time, speed-up, and per combination the split into export / evaluate /
latency, so what does not scale shows. Writes results/sweep_scaling.{json,md}.

    python benchmarks/sweep_scaling.py --data /tmp/data/test --limit 2000
    (default data: the built-in model's 200-image validation sample)
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, emit_table, machine_info  # noqa: E402

VAL = Path(__file__).resolve().parents[1] / "effmod" / "weights" / "efficientmod_xxs_cifar10.val"


def run(workers: int, args, work: Path) -> dict:
    out = work / f"w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(Path(sys.executable).parent / "effmod"), "sweep", "--weights", "cifar10", "--data", args.data,
           "--targets", args.targets, "--precisions", args.precisions, "--calib-sizes", "64", "--fallback", "none",
           "--threads", "1", "--workers", str(workers), "--bench-runs", "20", "--shard-size", str(args.shard_size),
           "--output", str(out)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.calib:
        cmd += ["--calib", args.calib]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 2):
        raise SystemExit(f"sweep with {workers} worker(s) failed: {proc.stdout[-2000:]}")
    result = json.loads((out / "results.json").read_text())
    return {"workers": workers, "wall_s": wall, "result": result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(VAL))
    ap.add_argument("--calib", help="INT8 calibration folder (default: built-in photos)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--targets", default="onnx,tflite")
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--shard-size", type=int, default=250)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sweep-scaling-"))
    runs = [run(w, args, work) for w in (1, 2)]
    table, per_combo = [], []
    for r in runs:
        rows = r["result"]["rows"]
        export = sum(x.get("export_seconds") or 0 for x in rows)
        evals = sum(x.get("eval_task_seconds") or 0 for x in rows)
        latency = sum(x.get("latency_seconds") or 0 for x in rows)
        busy = export + evals + latency
        table.append([str(r["workers"]), f"{r['wall_s']:.0f}", f"{runs[0]['wall_s'] / r['wall_s']:.2f}x",
                      f"{export:.0f}", f"{evals:.0f}", f"{latency:.0f}", f"{busy:.0f}",
                      f"{r['wall_s'] - busy / r['workers']:.0f}"])
        for x in rows:
            per_combo.append({"workers": r["workers"], "label": x["label"], "status": x["status"],
                              "export_s": x.get("export_seconds"), "eval_wall_s": x.get("eval_seconds"),
                              "eval_task_s": x.get("eval_task_seconds"), "latency_s": x.get("latency_seconds"),
                              "nodes": x.get("nodes")})
    info = machine_info()
    images = runs[0]["result"]["images"]
    footer = (f"{info['cpu']}, {info['cores']} cores; {images} images of {args.data}, grid {args.targets} x "
              f"{args.precisions} (calibration 64, no fallback), --threads 1, shards of {args.shard_size}, each run "
              "from an empty cache. export / evaluate / latency: summed task seconds; 'not spread' = wall minus "
              "busy/workers: the driver's start (Ray, model, listing), the latency tasks (each reserves the whole "
              "node, so they run alone) and waiting on the longest task.\n\nPer combination:\n\n"
              "| workers | combination | export s | eval wall s | eval task s | latency s |\n|---|---|---|---|---|---|\n"
              + "\n".join(f"| {c['workers']} | {c['label']} | {c['export_s']} | {c['eval_wall_s']} | {c['eval_task_s']} "
                          f"| {c['latency_s']} |" for c in per_combo))
    emit_table("effmod sweep: 1 vs 2 workers on this machine",
               ["workers", "wall s", "speed-up", "export s", "evaluate s", "latency s", "busy s", "not spread s"],
               table, OUT / "sweep_scaling.md", footer)
    (OUT / "sweep_scaling.json").write_text(json.dumps(
        {"runs": [{"workers": r["workers"], "wall_s": r["wall_s"], "engine": r["result"]["engine"]} for r in runs],
         "per_combination": per_combo, "images": images, "args": vars(args), "machine": info}, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
