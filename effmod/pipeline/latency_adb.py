"""``effmod bench ARTIFACT --adb --runner PATH``: time an artifact on an Android phone with the
runtime's own benchmark binary, which the user supplies (effmod never downloads one):
LiteRT ``benchmark_model`` for .tflite, ExecuTorch ``executor_runner`` for .pte. The binary's output is
parsed into the same JSON keys as host timing."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from ..errors import EffmodError

REMOTE_DIR = "/data/local/tmp/effmod"


def _adb(adb: str, serial: str | None, *args: str, timeout: int = 600) -> str:
    cmd = [adb] + (["-s", serial] if serial else []) + list(args)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise EffmodError(f"adb not found: {adb}", hint="install Android platform-tools or pass --adb-path") from None
    if proc.returncode != 0:
        msg = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise EffmodError(f"adb {' '.join(args[:2])} failed: {msg}", hint="check the phone is connected (adb devices)")
    return proc.stdout


def parse_benchmark_model(text: str) -> dict:
    """LiteRT benchmark_model: 'Inference timings in us: Init: .., First inference: .., Warmup (avg): ..,
    Inference (avg): ..' and the 'count=.. first=.. curr=.. min=.. max=.. avg=.. std=..' line of the runs."""
    out: dict = {}
    m = re.search(r"Inference timings in us: Init: ([\d.e+]+), First inference: ([\d.e+]+), "
                  r"Warmup \(avg\): ([\d.e+]+), Inference \(avg\): ([\d.e+]+)", text)
    if not m:
        raise EffmodError("could not find 'Inference timings in us' in benchmark_model's output",
                          hint="is --runner LiteRT's benchmark_model? run it by hand to see its output")
    out.update(load_ms=float(m.group(1)) / 1e3, first_ms=float(m.group(2)) / 1e3, mean_ms=float(m.group(4)) / 1e3)
    runs = [line for line in text.splitlines() if re.search(r"count=\d+ .*min=", line)]
    if runs:
        stats = dict(re.findall(r"(\w+)=([\d.e+]+)", runs[-1]))
        out.update(runs=int(stats["count"]), min_ms=float(stats["min"]) / 1e3, max_ms=float(stats["max"]) / 1e3)
        for key, name in (("median", "median_ms"), ("p50", "median_ms"), ("p90", "p90_ms")):
            if key in stats:
                out[name] = float(stats[key]) / 1e3
    mem = re.search(r"(?:Peak memory footprint|Memory footprint delta[^:]*) \(MB\): init=([\d.]+) overall=([\d.]+)", text)
    if mem:
        out["peak_rss_mb"] = float(mem.group(2))
    out.setdefault("median_ms", None)  # benchmark_model prints the mean; a median needs its percentile output
    return out


def parse_executor_runner(text: str) -> dict:
    """ExecuTorch executor_runner: 'Model executed successfully N time(s) in T ms.'"""
    m = re.search(r"executed successfully (\d+) time\(s\) in ([\d.]+) ms", text)
    if not m:
        raise EffmodError("could not find 'executed successfully N time(s) in T ms' in executor_runner's output",
                          hint="is --runner ExecuTorch's executor_runner (built with XNNPACK)?")
    n, total = int(m.group(1)), float(m.group(2))
    return {"runs": n, "mean_ms": total / n, "median_ms": None}


def bench_adb(path: str | Path, binary: str | Path, serial: str | None = None, threads: int = 2,
              warmup: int = 10, runs: int = 100, adb: str = "adb") -> dict:
    path, binary = Path(path), Path(binary)
    if path.suffix not in (".tflite", ".pte"):
        raise EffmodError(f"--adb times .tflite and .pte artifacts, not {path.suffix}",
                          hint="time Core ML with the iOS demo app's benchmark screen")
    if not path.is_file():
        raise EffmodError(f"artifact not found: {path}")
    if not binary.is_file():
        raise EffmodError(f"--runner binary not found: {binary}",
                          hint="build LiteRT's benchmark_model or ExecuTorch's executor_runner for Android")
    adb = shutil.which(adb) or adb
    _adb(adb, serial, "shell", f"mkdir -p {REMOTE_DIR}")
    remote_model, remote_binary = f"{REMOTE_DIR}/{path.name}", f"{REMOTE_DIR}/{binary.name}"
    _adb(adb, serial, "push", str(path), remote_model)
    _adb(adb, serial, "push", str(binary), remote_binary)
    _adb(adb, serial, "shell", f"chmod +x {remote_binary}")
    if path.suffix == ".tflite":
        cmd = (f"{remote_binary} --graph={remote_model} --num_threads={threads} --warmup_runs={warmup} "
               f"--num_runs={runs} --use_xnnpack=true")
        parsed, runtime = parse_benchmark_model(_adb(adb, serial, "shell", cmd)), "litert benchmark_model"
    else:
        cmd = f"{remote_binary} --model_path={remote_model} --num_executions={runs} --cpu_threads={threads}"
        parsed, runtime = parse_executor_runner(_adb(adb, serial, "shell", cmd)), "executorch executor_runner"
    model = _adb(adb, serial, "shell", "getprop ro.product.model").strip()
    abi = _adb(adb, serial, "shell", "getprop ro.product.cpu.abi").strip()
    return {"artifact": str(path), "status": "ok", "runtime": runtime, "threads": threads, "warmup": warmup,
            "device": {"model": model, "abi": abi, "serial": serial}, "command": cmd,
            **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in parsed.items()}}
