"""Latency of artifacts in their own runtimes, each timed in a fresh process (``effmod bench``, the sweep).

A runtime's thread pool disturbs another's in the same process, and peak RSS only means something
per process, so every artifact gets its own worker (``python -m effmod.pipeline.latency ARTIFACT ...``)."""
from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import EffmodError
from ..machine import machine_info
from ..manifest import Manifest
from ..targets import for_artifact, load_runner


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def measure(path: str, threads: int, warmup: int, runs: int) -> dict:
    """Time one artifact in this process (the worker side)."""
    import importlib

    target = for_artifact(path)
    # Imported before the clock starts, so load_ms is the artifact's load, not the library's import.
    t0 = time.perf_counter()
    importlib.import_module(target.runtime_module or target.converter_modules[0])
    import_ms = (time.perf_counter() - t0) * 1e3
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    runner = load_runner(path, threads=threads)
    load_ms = (time.perf_counter() - t0) * 1e3
    manifest = Manifest.read(path)
    x = _example(path)
    shape = list(x.shape)
    t0 = time.perf_counter()
    try:
        runner.run_batch(x)  # the artifact's own batch, without the batching wrapper
    except Exception as e:  # noqa: BLE001 - without a manifest the input shape is a guess: say so
        if manifest is not None:
            raise
        raise EffmodError(f"no manifest beside {Path(path).name}: timed with a {shape} input, which it refused "
                          f"({type(e).__name__})", hint="put the artifact's .json manifest beside it") from e
    first_ms = (time.perf_counter() - t0) * 1e3
    for _ in range(warmup):
        runner.run_batch(x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        runner.run_batch(x)
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return {
        "artifact": str(path), "runtime": runner.runtime, "runtime_version": runner.version, "engine": runner.engine,
        "threads": threads, "warmup": warmup, "runs": runs, "import_ms": round(import_ms, 1),
        "load_ms": round(load_ms, 2),
        "first_ms": round(first_ms, 3), "median_ms": round(statistics.median(times), 3),
        "p90_ms": round(times[min(len(times) - 1, int(0.9 * len(times)))], 3),
        "min_ms": round(times[0], 3), "max_ms": round(times[-1], 3),
        # peak RSS of the process, and what the runtime library alone took before the artifact was loaded
        "peak_rss_mb": round(_rss_mb(), 1), "rss_after_import_mb": round(rss_before, 1),
        "batch": shape[0], "precision": manifest.precision if manifest else None,
        "model": manifest.model if manifest else None,
    }


def bench(path: str | Path, threads: int = 2, warmup: int = 10, runs: int = 100) -> dict:
    """Run ``measure`` in a fresh worker process; a failure becomes a row with its reason."""
    path = Path(path)
    if not path.exists():
        raise EffmodError(f"artifact not found: {path}")
    target = for_artifact(path)
    why_not = target.cannot_time_here()
    if why_not:
        return {"artifact": str(path), "runtime": target.name, "status": "not_timed", "reason": why_not,
                "cost": artifact_cost(path)}
    if runs < 1 or warmup < 0:
        raise EffmodError("--runs must be ≥ 1 and --warmup ≥ 0")
    proc = subprocess.run([sys.executable, "-m", "effmod.pipeline.latency", str(path), str(threads), str(warmup), str(runs)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"artifact": str(path), "status": "failed", "reason": tail, "cost": artifact_cost(path)}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "status": "ok", "machine": machine_info(),
            "cost": artifact_cost(path)}


def artifact_cost(path: Path) -> dict | None:
    """The artifact's cost report (``effmod.cost``): its manifest's, else read from the artifact."""
    manifest = Manifest.read(path)
    if manifest is not None and manifest.cost is not None:
        return manifest.cost.to_dict()
    try:
        report = for_artifact(path).cost_of(path)
    except Exception:  # noqa: BLE001 - a graph the reader does not know: the timing stands without it
        return None
    return report.to_dict() if report is not None else None


def _example(path: str | Path) -> np.ndarray:
    """A random input of the artifact's own shape (its manifest's; a 224-px image without one)."""
    manifest = Manifest.read(path)
    shape = manifest.input.shape if manifest else [1, 3, 224, 224]
    return np.random.default_rng(0).standard_normal([1 if not isinstance(d, int) else d for d in shape]).astype(
        np.float32)


def measure_together(paths: list[str], threads: int, warmup: int, runs: int, block: int) -> dict[str, float]:
    """Median ms of each artifact of one runtime, all loaded in this process and timed in turn, ``block``
    runs at a time (the worker side of ``bench_together``). These VMs run a process in one of two speeds
    about 1.6x apart; artifacts timed in one process share it, so identical graphs time alike. The first
    run after each switch is not timed: the previous artifact's thread pool may still be spinning."""
    runners = {p: load_runner(p, threads=threads) for p in paths}
    inputs = {p: _example(p) for p in paths}
    for p, r in runners.items():
        for _ in range(warmup):
            r.run_batch(inputs[p])
    times: dict[str, list[float]] = {p: [] for p in paths}
    while any(len(t) < runs for t in times.values()):
        for p, r in runners.items():
            r.run_batch(inputs[p])
            for _ in range(min(block, runs - len(times[p]))):
                t = time.perf_counter()
                r.run_batch(inputs[p])
                times[p].append((time.perf_counter() - t) * 1e3)
    return {p: round(statistics.median(t), 3) for p, t in times.items()}


def bench_together(paths: list[str | Path], threads: int = 2, warmup: int = 5, runs: int = 20,
                   block: int = 5) -> dict[str, dict]:
    """``measure_together`` in a fresh worker process: {artifact: {"status", "median_ms" | "reason"}}.
    Give it artifacts of one runtime (thread pools of one library, as an app has)."""
    out: dict[str, dict] = {}
    timed = []
    for path in map(str, paths):
        why_not = for_artifact(path).cannot_time_here()
        if why_not:
            out[path] = {"status": "not_timed", "reason": why_not}
        else:
            timed.append(path)
    if timed:
        proc = subprocess.run([sys.executable, "-m", "effmod.pipeline.latency", "--together", str(threads),
                               str(warmup), str(runs), str(block), *timed], capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            out.update({p: {"status": "failed", "reason": tail} for p in timed})
        else:
            medians = json.loads(proc.stdout.strip().splitlines()[-1])
            out.update({p: {"status": "ok", "median_ms": medians[p]} for p in timed})
    return out


if __name__ == "__main__":  # worker: ARTIFACT THREADS WARMUP RUNS, or --together THREADS WARMUP RUNS BLOCK ARTIFACT...
    if sys.argv[1] == "--together":
        _t, _w, _r, _b = (int(v) for v in sys.argv[2:6])
        print(json.dumps(measure_together(sys.argv[6:], _t, _w, _r, _b)))
    else:
        _path, _threads, _warmup, _runs = sys.argv[1:5]
        print(json.dumps(measure(_path, int(_threads), int(_warmup), int(_runs))))
