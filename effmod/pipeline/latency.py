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
    shape = manifest.input.shape if manifest else [1, 3, 224, 224]
    shape = [1 if not isinstance(d, int) else d for d in shape]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    t0 = time.perf_counter()
    runner.run_batch(x)  # the artifact's own batch, without the batching wrapper
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
        return {"artifact": str(path), "status": "failed", "reason": tail}
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


if __name__ == "__main__":  # worker: python -m effmod.pipeline.latency ARTIFACT THREADS WARMUP RUNS
    _path, _threads, _warmup, _runs = sys.argv[1:5]
    print(json.dumps(measure(_path, int(_threads), int(_warmup), int(_runs))))
