"""Machine and version facts recorded with every benchmark result."""
from __future__ import annotations

from pathlib import Path

from effmod.machine import machine_info  # noqa: F401 - re-exported for the scripts

OUT = Path(__file__).resolve().parent / "results"
GOLDEN = Path(__file__).resolve().parents[2] / "shared/reference/efficientmod_xxs_seed0_official_format.pth"
# The forms the latency and profile scripts export: the official graph as-is ("naive") or effmod's deploy form.
FORMS = {"naive fp32": ["--precision", "fp32", "--no-deploy-form"], "deploy fp32": ["--precision", "fp32"],
         "deploy int8": ["--quantize", "int8"], "naive int8": ["--quantize", "int8", "--no-deploy-form"]}


def emit_table(title: str, columns: list[str], rows: list[list[str]], md_path, footer: str,
               show: bool = True) -> None:
    """Write ``rows`` + ``footer`` as a Markdown table; with ``show`` also print them as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for cells in rows:
        table.add_row(*cells)
        md.append("| " + " | ".join(cells) + " |")
    if show:
        console = Console()
        if not console.is_terminal:  # a log file: don't squeeze wide tables into 80 columns
            console = Console(width=200)
        console.print(table)
    md_path.write_text("\n".join(md) + f"\n\n{footer}\n")


_TIMER = r"""
import json, statistics, sys, time
import numpy as np
from effmod.targets import load_runner
paths, threads, runs = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
# several ORT sessions share this process: no busy-waiting threads, or they slow each other 2-3x
runners, failed = {}, {}
x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
for k, p in paths.items():
    try:  # an artifact its runtime refuses to load is reported, the others are still timed
        runners[k] = load_runner(p, threads=threads, **({"spinning": False} if p.endswith(".onnx") else {}))
        for _ in range(5):
            runners[k].run_batch(x)
    except Exception as e:  # noqa: BLE001
        runners.pop(k, None)
        failed[k] = f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"[:300]
times = {k: [] for k in runners}
for _ in range(runs):
    for k, r in runners.items():
        t = time.perf_counter(); r.run_batch(x); times[k].append(time.perf_counter() - t)
print(json.dumps({**{k: statistics.median(v) * 1e3 for k, v in times.items()}, **failed}))
"""


def artifacts_parser(description: str):
    """The arguments of scripts that take artifacts by name (NAME=PATH ...) and --threads."""
    import argparse

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("artifacts", nargs="+", metavar="NAME=PATH")
    ap.add_argument("--threads", type=int, default=2)
    return ap


def named_artifacts(args) -> dict[str, str]:
    return dict(a.split("=", 1) for a in args.artifacts)


def time_interleaved(paths: dict[str, str], threads: int, runs: int) -> dict[str, float | str]:
    """Median ms per artifact, all of one runtime loaded in one fresh process and run in turn, so they
    share the machine's load; returns {key: median_ms}, or {key: reason} for one that failed to load/run."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.run([sys.executable, "-c", _TIMER, json.dumps(paths), str(threads), str(runs)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        raise SystemExit(f"timing {list(paths.values())} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def goal_verdict(goal: dict, bold_miss: bool = False) -> str:
    """'yes', or 'no[, floor met][ (short by X×)]' for a goal row of latency.py's goal_check."""
    if goal["met"]:
        return "yes"
    return ("**no**" if bold_miss else "no") + (", floor met" if goal.get("floor_met") else "") + (
        f" (short by {goal['missed_by']})" if goal.get("missed_by") else "")


class ExportFailed(RuntimeError):
    """``effmod export`` exited with an error (the message is its last lines of output)."""


def export_form(model: str, target: str, form: str, out: Path, weights: str, calib: str | None = None,
                calib_size: int | None = None) -> dict:
    """Export one of ``FORMS`` of ``model`` for ``target`` under ``out``; its manifest."""
    tag = form.replace(" ", "_")
    cli = ["--target", target, "--model", model, *FORMS[form], "--weights", weights, "--output", str(out / tag)]
    if "int8" in form:
        cli += (["--calib", calib] if calib else []) + (["--calib-size", str(calib_size)] if calib_size else [])
    return export_artifact(cli, out / f"{target}_{tag}.json")


def export_artifact(args: list[str], json_path) -> dict:
    """Run ``effmod export ARGS --json json_path`` in a subprocess; the manifest of its one artifact.
    Raises ``ExportFailed`` when it produced none."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "effmod.cli", "export", *args, "--json", str(json_path), "--force"],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 2):  # 2: exported but parity failed (recorded in the manifest)
        lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        err = next((ln for ln in reversed(lines) if ln.lower().startswith("error")), lines[-1] if lines else "")
        raise ExportFailed(err[:400] or f"exit {proc.returncode}")
    return json.loads(json_path.read_text())[0]
