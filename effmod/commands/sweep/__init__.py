"""``effmod sweep``: every target × precision × calibration size × fallback, in the real runtimes, on a
labelled set, as Ray tasks (``driver.py`` runs it: ``grid`` → ``work`` units → ``backends`` (Ray or this
process) → ``schedule`` → ``view``, ``report``)."""
from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ...errors import EffmodError
from ..base import Command, arch_options, arm64_request, model_options, split_list, threads_option


def add_arguments(p: argparse.ArgumentParser) -> None:
    model_options(p)
    p.add_argument("--data", required=True, help="evaluation folder DATA/<class>/<image> with the model's classes")
    p.add_argument("--calib", help="INT8 calibration folder (default: built-in photos, with a warning)")
    p.add_argument("--targets", help="comma-separated target names (default: every target)")
    p.add_argument("--precisions", default="fp32,fp16,int8", help="from fp32,fp16,int8,int8-weights")
    p.add_argument("--calib-sizes", default="32,256")
    p.add_argument("--fallback", default="none,auto", help="none, auto or none,auto (auto: executorch, coreml)")
    p.add_argument("--limit", type=int, help="evaluate a class-balanced subset of N images")
    threads_option(p, default=2)
    p.add_argument("--bench-runs", type=int, default=100, help="timed runs per artifact, split over the rounds (default 100)")
    p.add_argument("--latency-rounds", type=int, default=5,
                   help="time all artifacts in this many interleaved rounds, after the evaluation (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default="effmod-sweep")
    p.add_argument("--resume", action="store_true", help="keep finished rows and shards of a killed sweep in --output")
    p.add_argument("--ray-address", help="join a running Ray cluster: auto or HOST:PORT (default: start a local "
                                         "Ray instance sized to this machine)")
    p.add_argument("--no-ray", action="store_true", help="run every task in this process, one at a time")
    p.add_argument("--workers", type=int, help="tasks in flight at most (default: what the nodes can place: "
                                               "each node's CPUs // --threads, summed)")
    p.add_argument("--cache", help="exports and decoded images (default: --output); on a cluster an absolute "
                                   "path every node sees")
    p.add_argument("--shard-size", type=int, default=1000, help="images per evaluation task (default 1000)")
    p.add_argument("--force", action="store_true", help="discard earlier results in --output")
    arch_options(p)
    p.add_argument("--timeout", type=int, help="stop the sweep after this many seconds, keeping what is done "
                                               "(resume it later with --resume)")


def options(args: argparse.Namespace):
    from ...targets import TARGET_NAMES
    from .driver import SweepOptions

    try:
        sizes = [int(v) for v in split_list(args.calib_sizes)]
    except ValueError:
        raise EffmodError(f"--calib-sizes '{args.calib_sizes}' is not a list of integers", hint="e.g. --calib-sizes 32,256") from None
    if any(v < 1 for v in sizes):
        raise EffmodError(f"--calib-sizes entries must be positive numbers, not {args.calib_sizes}",
                          hint="e.g. --calib-sizes 32,256")
    return SweepOptions(model=args.model, data=args.data, weights=args.weights, num_classes=args.num_classes,
                        img_size=args.img_size, calib=args.calib, targets=split_list(args.targets) if args.targets else list(TARGET_NAMES),
                        precisions=split_list(args.precisions), calib_sizes=sizes, fallbacks=split_list(args.fallback),
                        limit=args.limit, output=args.output, resume=args.resume, force=args.force,
                        threads=args.threads, seed=args.seed, bench_runs=args.bench_runs,
                        latency_rounds=args.latency_rounds,
                        ray_address=args.ray_address, no_ray=args.no_ray, workers=args.workers, cache=args.cache,
                        shard_size=args.shard_size, timeout=args.timeout, command_line=_resume_command(args),
                        arm64=arm64_request(args))


def _resume_command(args: argparse.Namespace) -> str | None:
    import shlex

    argv = getattr(args, "argv", None)
    if argv is None:
        return None
    return shlex.join(["effmod", *argv, *([] if "--resume" in argv else ["--resume"])])


def _cost_cells(cost: dict | None) -> tuple[str, str]:
    from ...cost import CostReport

    if cost is None:
        return "-", "-"
    c = CostReport.from_dict(cost)
    return f"{c.int8_mac_share:.0%}", str(c.float_islands)


def run(args: argparse.Namespace, console: Console) -> int:
    from ...console import ConsoleReporter
    from .driver import run_sweep
    from .report import latency_cell

    result = run_sweep(options(args), ConsoleReporter(console, debug=args.debug))
    table = Table(title=f"sweep: {args.model}, {result['images']} images; PyTorch fp32 top-1 "
                        f"{result['pytorch_fp32']['top1']:.2f}%")
    for col in ("combination", "top-1 %", "agree %", "SQNR dB", "MB", "ms (± spread/2)", "INT8 MACs",
                "float islands", "kept float"):
        table.add_column(col)
    for r in result["rows"]:
        if r["status"] != "ok":
            table.add_row(r["label"], f"[red]failed[/] {escape(r['reason'][:60])}", *[""] * 7)
            continue
        table.add_row(r["label"], f"{r['top1']:.2f}", f"{r['agreement']:.2f}", f"{r['sqnr_db']:.1f}",
                      f"{r['size_mb']:.1f}", latency_cell(r, "not timed"),
                      *_cost_cells(r.get("cost")), ", ".join(r["kept_float"]))
    console.print(table)
    for g in result["goal"]:
        verdict = "[green]met[/]" if g["met"] else "[red]MISSED[/]"
        console.print(f"INT8 goal ({g['target']}): best {g['best_int8']} {g['best_int8_top1']:.2f}% vs "
                      f"{g['float_top1']:.2f}% float, drop {g['drop']:.2f} points: {verdict}")
    console.print("results: " + ", ".join(result["files"].values()))
    return 2 if any(r["status"] != "ok" for r in result["rows"]) else 0


COMMAND = Command("sweep", "accuracy/latency/size of every target x precision x calibration x fallback on labelled data",
                  add_arguments, run)
