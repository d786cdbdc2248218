"""``effmod debug ARTIFACT``: which block (and for op-level targets, which op) diverges from PyTorch;
the work is ``pipeline.debug_artifact``."""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .base import Command, json_option, write_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("artifact")
    p.add_argument("--data", help="folder of images of the model's classes (default: the weights' validation sample)")
    p.add_argument("--images", type=int, default=32, help="images to compare (default 32)")
    p.add_argument("--threshold-db", type=float,
                   help="a block diverges below this SQNR (default: fp32 80, fp16 45, INT8 vs its reference 15)")
    p.add_argument("--calib", help="INT8: the export's calibration images, if they moved")
    json_option(p, "the report (and beside it a PNG of SQNR per block)")


def _table(report) -> Table:
    table = Table(title=f"effmod debug {Path(report.artifact).name}: blocks vs {report.reference}")
    with_fp32 = any(r.sqnr_vs_fp32_db is not None for r in report.blocks)
    for col in ["block", "SQNR dB", "max|Δ|", "cosine", "growth dB"] + (["SQNR vs fp32"] if with_fp32 else []):
        table.add_column(col)
    for r in report.blocks:
        mark = r.block == report.first_divergent
        style = "bold red" if mark else ("red" if r.below_threshold else "")
        cells = [r.block + (" ← first below threshold" if mark else ""), f"{r.sqnr_db:.1f}", f"{r.max_abs:.3g}",
                 f"{r.cosine:.6f}", "" if r.growth_db is None else f"{r.growth_db:+.1f}"]
        if with_fp32:
            cells.append("" if r.sqnr_vs_fp32_db is None else f"{r.sqnr_vs_fp32_db:.1f}")
        table.add_row(*cells, style=style)
    return table


def run(args: argparse.Namespace, console: Console) -> int:
    from ..console import ConsoleReporter
    from ..pipeline import debug_artifact

    report = debug_artifact(args.artifact, data=args.data, threshold_db=args.threshold_db, images=args.images,
                            calib=args.calib, reporter=ConsoleReporter(console, debug=args.debug))
    console.print(_table(report))
    console.print(f"artifact side: {report.artifact_side}")
    console.print(f"data: {report.n_images} images; {report.data}")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    if report.first_divergent:
        console.print(f"[red]first divergence:[/] {report.first_divergent} (SQNR below {report.threshold_db:g} dB); "
                      f"largest growth in {report.largest_growth}")
    else:
        console.print(f"[green]no block below {report.threshold_db:g} dB[/]; largest growth in {report.largest_growth}")
    if report.first_op_jump:
        o = report.first_op_jump
        console.print(f"first op whose error jumps: op #{o.index} '{o.mil_name}' ({o.op_type}) from PyTorch module "
                      f"'{o.module}': {o.drop_db:.1f} dB lost there, {o.sqnr_db:.1f} dB after it")
    if report.first_non_finite:
        console.print(f"[red]first non-finite value:[/] {report.first_non_finite}")
    if args.json:
        from ..pipeline.debug_plot import plot_blocks

        write_json(args.json, report.to_dict())
        png = plot_blocks(report, Path(args.json).with_suffix(".png"))
        console.print(f"report: {args.json}" + (f" and {png}" if png else " (pip install 'effmod[sweep]' for the "
                                                                           "PNG of SQNR per block)"))
    return 2 if report.first_divergent else 0


COMMAND = Command("debug", "compare an artifact with PyTorch block by block (and op by op for Core ML)",
                  add_arguments, run)
