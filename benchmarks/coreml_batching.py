"""Images/s of Core ML artifacts in effmod's ML-program executor, one image a pass (before) and a whole
chunk a pass (after, batching.py), at 64 and 224 px, fp32 / fp16 / W8A8; and ONNX Runtime on the same
images as the yardstick (the issue's goal: Core ML rows of a sweep take no longer than ONNX rows).

Each measurement runs in its own process (thread pools of different runtimes disturb each other).
Writes results/coreml_batching.{json,md}.

    git worktree add /tmp/before <commit before batching>
    python benchmarks/coreml_batching.py --artifacts /tmp/cmb --before /tmp/before
    # made with: effmod-export --target coreml --precision {fp32,fp16,int8} --output DIR/64   (built-in weights)
    #            effmod-export --target coreml --precision ... --weights none --img-size 224 --output DIR/224
    #            and the same with --target onnx --precision {fp32,int8}
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, emit_table, machine_info  # noqa: E402

CHUNK = 64  # what the sweep hands a runner at a time


def measure(path: str, mode: str, images: int, threads: int) -> dict:
    """In this (fresh) process: images/s over ``images`` random images, after one warm-up chunk."""
    import torch

    from effmod.targets import load_runner
    from effmod.manifest import Manifest

    torch.set_num_threads(threads)
    spec = Manifest.for_artifact(path).input
    kwargs = {"engine": "executor"} if path.endswith(".mlpackage") else {}
    if path.endswith(".mlpackage") and mode != "before":
        kwargs["batching"] = mode == "batched"
    runner = load_runner(path, threads=threads, input_spec=spec, **kwargs)
    size = int(spec.shape[-1])
    x = np.random.default_rng(0).standard_normal((images, 3, size, size)).astype(np.float32)
    runner(x[:min(CHUNK, images)])  # warm-up (and the batched pass's one-time check)
    t0 = time.perf_counter()
    for i in range(0, images, CHUNK):
        runner(x[i:i + CHUNK])
    seconds = time.perf_counter() - t0
    return {"images_per_s": images / seconds, "seconds": seconds, "images": images,
            "batching": getattr(runner, "batching", "runtime's own"), "engine": runner.engine}


def _child(path: Path, mode: str, images: int, threads: int, tree: str | None = None) -> dict:
    """``tree``: run the measurement with the effmod of another checkout (the code before batching)."""
    env = {**os.environ, "PYTHONPATH": tree} if tree else None
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), mode, str(images), str(threads)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifacts", help="folder with 64/ and 224/ effmod-export outputs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images-64", type=int, default=256)
    ap.add_argument("--images-224", type=int, default=64)
    ap.add_argument("--before", help="a checkout of effmod before batching (git worktree add DIR COMMIT): "
                                     "its executor is measured too, image by image")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        path, mode, images, threads = args.child
        print(json.dumps(measure(path, mode, int(images), int(threads))))
        return
    if not args.artifacts:
        ap.error("--artifacts is required")
    if args.before:
        args.before_commit = subprocess.run(["git", "-C", args.before, "rev-parse", "--short", "HEAD"],
                                            capture_output=True, text=True).stdout.strip() or args.before
    rows, table = [], []
    for size, images in (("64", args.images_64), ("224", args.images_224)):
        folder = Path(args.artifacts) / size
        onnx = {}
        for p in ("fp32", "int8"):
            hit = sorted(folder.glob(f"*_{p}.onnx"))
            if hit:
                onnx[p] = _child(hit[0], "runtime", images, args.threads)
        for p in ("fp32", "fp16", "int8"):
            hit = sorted(folder.glob(f"*_{p}.mlpackage"))
            if not hit:
                continue
            before = _child(hit[0], "before", images, args.threads, args.before) if args.before else {}
            single = _child(hit[0], "single", images, args.threads)
            batched = _child(hit[0], "batched", images, args.threads)
            yard = onnx.get("int8" if p == "int8" else "fp32", {})
            row = {"img_size": int(size), "precision": "W8A8" if p == "int8" else p, "images": images,
                   "before": before, "single": single, "batched": batched, "onnx": yard}
            rows.append(row)
            fp, sp, bp, op = (r.get("images_per_s") for r in (before, single, batched, yard))
            cell = lambda v, r: f"{v:.1f}" if v else r.get("error", "–")  # noqa: E731
            table.append([size, row["precision"], cell(fp, before), cell(sp, single), cell(bp, batched),
                          f"{bp / fp:.1f}x" if fp and bp else "–", cell(op, yard),
                          f"{bp / op:.2f}" if bp and op else "–", batched.get("batching", "")])
    info = machine_info()
    footer = (f"{info['cpu']}, {info['cores']} cores, {args.threads} threads; images/s over random inputs, chunks of "
              f"{CHUNK} (as a sweep hands them), after one warm-up chunk; each cell in its own process. "
              f"before = the executor of commit {getattr(args, 'before_commit', '(not measured)')} (one image a pass, a mask for every "
              "op's finiteness check, unfused GELU and quantize); single = this executor one image a pass; "
              "batched = this executor, the chunk in passes of the size in the last column. ONNX = onnxruntime on "
              "the same images (fp32 artifact for fp32/fp16 rows, INT8 QDQ for W8A8), batch 1 as exported.")
    emit_table("Core ML executor: images/s, one image vs a chunk a pass",
               ["px", "precision", "before img/s", "single img/s", "batched img/s", "speed-up vs before",
                "ONNX img/s", "batched / ONNX", "batching"], table, OUT / "coreml_batching.md", footer)
    (OUT / "coreml_batching.json").write_text(json.dumps({"rows": rows, "threads": args.threads, "chunk": CHUNK,
                                                          "before": getattr(args, "before_commit", None),
                                                          "machine": info}, indent=2) + "\n")


if __name__ == "__main__":
    main()
