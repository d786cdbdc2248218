"""``effmod validate ARTIFACT``: re-run an artifact's parity check in its runtime (``pipeline.revalidate``)."""
from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from .base import Command, arch_options, arm64_request, arm64_table, bound_options, bounds, json_option, threads_option, write_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("artifact")
    p.add_argument("--model", help="model name (default: from the manifest)")
    p.add_argument("--weights", help="checkpoint (default: from the manifest)")
    p.add_argument("--num-classes", type=int)
    p.add_argument("--data", help="folder of images of the model's classes (default: the weights' validation sample)")
    p.add_argument("--calib", help="INT8: the export's calibration images, when they are no longer where the "
                                   "manifest says (the simulated reference is rebuilt with them)")
    bound_options(p)
    threads_option(p)
    arch_options(p)
    json_option(p, "the parity result")


def run(args: argparse.Namespace, console: Console) -> int:
    from ..console import ConsoleReporter
    from ..pipeline import revalidate

    result = revalidate(args.artifact, model=args.model, weights=args.weights, num_classes=args.num_classes,
                        data=args.data, threads=args.threads, calib=args.calib, overrides=bounds(args),
                        reporter=ConsoleReporter(console, debug=args.debug), arm64=arm64_request(args))
    table = Table(title=f"effmod validate {args.artifact}: {result.data}, run by {result.engine}")
    for col in ("gate", "against", "status", "bounds", "max|Δ|", "cosine", "SQNR dB", "top-1 agr.", "top-5 agr."):
        table.add_column(col)
    gates = [("correctness", result.correctness), ("quality", result.quality)]
    if result.rebuild is not None:
        gates.append(("rebuild", result.rebuild))
    for name, g in gates:
        m = g.metrics
        colour = {"passed": "green", "failed": "red"}.get(g.status, "yellow")
        table.add_row(name, g.reference, f"[{colour}]{g.status}[/]", ", ".join(f"{k} {v:g}" for k, v in g.bounds.items()),
                      f"{m.max_abs:.2e}", f"{m.cosine:.6f}", f"{m.sqnr_db:.1f}", f"{m.top1_agreement:.1%}",
                      f"{m.top5_agreement:.1%}")
    console.print(table)
    for note in ([result.quality.note] if result.quality.note else []) + result.host_notes:
        console.print(f"[yellow]note:[/] {note}")
    if result.arm64 is not None:
        console.print(arm64_table(result.arm64))
    write_json(args.json, result.to_dict())
    if result.status == "failed":
        console.print("[red]parity failed:[/] " + "; ".join(result.failures))
        return 2
    return 0


COMMAND = Command("validate", "re-run the parity check of an artifact in its runtime", add_arguments, run)
