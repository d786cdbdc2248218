"""Machine and version facts recorded with every benchmark result."""
from __future__ import annotations

from effmod.machine import machine_info  # noqa: F401 - re-exported for the scripts


def emit_table(title: str, columns: list[str], rows: list[list[str]], md_path, footer: str) -> None:
    """Print ``rows`` as a rich table and write the same table + ``footer`` as Markdown."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for cells in rows:
        table.add_row(*cells)
        md.append("| " + " | ".join(cells) + " |")
    Console().print(table)
    md_path.write_text("\n".join(md) + f"\n\n{footer}\n")


_TIMER = r"""
import json, statistics, sys, time
import numpy as np
from effmod import runtime
paths, threads, runs = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
# several ORT sessions share this process: no busy-waiting threads, or they slow each other 2-3x
runners = {k: runtime.load(p, threads=threads, **({"spinning": False} if p.endswith(".onnx") else {}))
           for k, p in paths.items()}
x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
for r in runners.values():
    for _ in range(5):
        r._run_one(x)
times = {k: [] for k in runners}
for _ in range(runs):
    for k, r in runners.items():
        t = time.perf_counter(); r._run_one(x); times[k].append(time.perf_counter() - t)
print(json.dumps({k: statistics.median(v) * 1e3 for k, v in times.items()}))
"""


def time_interleaved(paths: dict[str, str], threads: int, runs: int) -> dict[str, float]:
    """Median ms per artifact, all of one runtime loaded in one fresh process and run in turn, so they
    share the machine's load; returns {key: median_ms}."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.run([sys.executable, "-c", _TIMER, json.dumps(paths), str(threads), str(runs)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise SystemExit(f"timing {list(paths.values())} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export_artifact(args: list[str], json_path) -> dict:
    """Run ``effmod export ARGS --json json_path`` in a subprocess; the manifest of its one artifact."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "effmod.cli", "export", *args, "--json", str(json_path), "--force"],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 2):  # 2: exported but parity failed (recorded in the manifest)
        raise SystemExit(f"effmod export {' '.join(args)} failed:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
    return json.loads(json_path.read_text())[0]
