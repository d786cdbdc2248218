"""``effmod bench ARTIFACT...``: latency of artifacts, each in its own process (``pipeline.latency``), or
on an Android phone with the runtime's own benchmark binary (``pipeline.latency_adb``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..errors import EffmodError
from .base import Command, json_option, threads_option, write_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("artifacts", nargs="+", metavar="ARTIFACT")
    threads_option(p, default=2)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--runs", type=int, default=100)
    json_option(p, "the results")
    p.add_argument("--adb", action="store_true", help="run on an Android phone with the runtime's benchmark binary")
    p.add_argument("--serial", help="adb device serial")
    p.add_argument("--runner", dest="phone_binary", metavar="BINARY",
                   help="with --adb: benchmark_model (.tflite) or executor_runner (.pte) built for the phone")
    p.add_argument("--adb-path", default="adb", help="adb executable (default: adb on PATH)")


def _measure(args: argparse.Namespace, console: Console) -> list[dict]:
    if args.adb:
        from ..pipeline.latency_adb import bench_adb

        if not args.phone_binary:
            raise EffmodError("--adb needs --runner PATH", hint="LiteRT benchmark_model for .tflite, ExecuTorch "
                                                               "executor_runner for .pte (effmod never downloads one)")
        return [bench_adb(a, args.phone_binary, args.serial, args.threads, args.warmup, args.runs, args.adb_path)
                for a in args.artifacts]
    from ..pipeline.latency import bench

    for a in args.artifacts:
        if not Path(a).exists():
            raise EffmodError(f"artifact not found: {a}")
    rows = []
    with console.status("timing ..."):
        for a in args.artifacts:
            rows.append(bench(a, args.threads, args.warmup, args.runs))
            console.print(f"[green]✓[/] {Path(a).name}")
    return rows


def _print_costs(rows: list[dict], console: Console) -> None:
    """What transfers to a phone (effmod.cost): the host's milliseconds do not, these counts do."""
    from ..cost import CostReport

    table = Table(title="cost report: what transfers to a phone (counted in the graph, not timed)")
    for c in ("artifact", "INT8 MACs", "GMACs", "float islands", "Q/DQ converts", "nodes", "partitions",
              "outside the delegate"):
        table.add_column(c)
    for r in rows:
        if r.get("cost") is None:
            table.add_row(Path(r["artifact"]).name, "not known (no manifest cost; no reader for this artifact)",
                          *["-"] * 6)
            continue
        c = CostReport.from_dict(r["cost"])
        table.add_row(Path(r["artifact"]).name, f"{c.int8_mac_share:.0%}", f"{c.macs / 1e9:.3f}",
                      str(c.float_islands), str(c.converts), str(c.nodes),
                      "-" if c.partitions is None else str(c.partitions), c.outside_text())
    console.print(table)


def run(args: argparse.Namespace, console: Console) -> int:
    from ..machine import machine_info

    rows = _measure(args, console)
    m = machine_info()
    host = f"{m['cpu']} ({' '.join(m['cpu_flags']) or 'no AVX2'}), {m['cores']} cores"
    where = f"adb device {rows[0]['device']['model']}" if args.adb else host
    table = Table(title=f"effmod bench: {where}, {args.threads} threads, {args.runs} runs after {args.warmup} warm-up")
    for c in ("artifact", "runtime", "load ms", "first ms", "median ms", "p90 ms", "min ms", "max ms", "peak RSS MB"):
        table.add_column(c)
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for r in rows:
        if r["status"] != "ok":
            table.add_row(Path(r["artifact"]).name, r.get("runtime", "?"), f"[yellow]{r['status']}[/]: {r['reason']}",
                          *["-"] * 6)
            continue
        table.add_row(Path(r["artifact"]).name, r["runtime"], fmt(r.get("load_ms")), fmt(r.get("first_ms")),
                      fmt(r.get("median_ms") or r.get("mean_ms")), fmt(r.get("p90_ms")), fmt(r.get("min_ms")),
                      fmt(r.get("max_ms")), fmt(r.get("peak_rss_mb")))
    console.print(table)
    _print_costs(rows, console)
    if args.adb and any(r.get("median_ms") is None for r in rows):
        console.print("median column shows the mean where the phone's runner prints no median")
    write_json(args.json, {"machine": m, "results": rows})
    return 1 if any(r["status"] == "failed" for r in rows) else 0


COMMAND = Command("bench", "latency of artifacts in their runtimes (each in its own process), or on a phone via adb",
                  add_arguments, run)
