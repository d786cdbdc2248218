"""``effmod export`` / ``effmod-export``: arguments, progress and the results table; the work is
``effmod.pipeline.run_export``."""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..errors import EffmodError
from ..precision import PRECISIONS
from .base import (Command, arch_options, arm64_request, arm64_table, bound_options, bounds, json_option, model_options,
                   threads_option, write_json)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, action="append",
                   help="coreml, tflite, executorch, onnx or all (repeatable)")
    model_options(p)
    p.add_argument("--precision", choices=PRECISIONS,
                   help="default: fp16 for coreml, fp32 elsewhere; int8: post-training quantization; "
                        "int8-weights: coreml only")
    p.add_argument("--quantize", choices=PRECISIONS, metavar="PRECISION",
                   help="an alias of --precision (--quantize int8 is --precision int8)")
    p.add_argument("--calib", help="INT8: folder of calibration images (ImageFolder or flat; default: built-in photos, with a warning)")
    p.add_argument("--calib-size", type=int, default=256, help="INT8: number of calibration images (default 256)")
    p.add_argument("--keep-float", action="append", default=[], metavar="PATTERN",
                   help="INT8 (executorch, coreml): keep a kind (attention, norm, dw, head) or module glob in float")
    bound_options(p)
    p.add_argument("--seed", type=int, default=0, help="calibration sampling seed")
    p.add_argument("--io", choices=["float", "int8"], default="float",
                   help="tflite INT8: integer graph input/output (scale and zero point in the manifest)")
    p.add_argument("--auto-fallback", action="store_true",
                   help="INT8 (executorch, coreml): keep the most sensitive blocks in float until --fallback-sqnr is met")
    p.add_argument("--fallback-sqnr", type=float, default=30.0,
                   help="--auto-fallback's goal: SQNR dB vs fp32 of the fake-quantized model (default 30)")
    p.add_argument("--no-deploy-form", action="store_true", help="convert the official graph as-is (for comparison)")
    p.add_argument("--image-input", action="store_true", help="coreml: RGB ImageType input with preprocessing built in")
    p.add_argument("--dynamic-batch", action="store_true", help="onnx: dynamic batch dimension")
    p.add_argument("--output", default="effmod-out", help="output directory (default: effmod-out)")
    p.add_argument("--validate-data", help="folder of images of the model's classes for the parity check (default: the "
                                           "validation sample shipped with the weights, else built-in photos)")
    threads_option(p, what="runtime threads for the parity run")
    arch_options(p)
    p.add_argument("--force", action="store_true", help="overwrite existing artifacts")
    json_option(p, "the manifests of this run")


def options(args: argparse.Namespace):
    """The run's options, resolved from the arguments once."""
    from ..pipeline import ExportOptions

    # --quantize is an alias of --precision: both may be given only when they agree.
    if args.quantize and args.precision and args.precision != args.quantize:
        raise EffmodError(f"--quantize {args.quantize} contradicts --precision {args.precision}", hint="give one of them")
    return ExportOptions(targets=[t for arg in args.target for t in arg.split(",") if t], model=args.model,
                         weights=args.weights, num_classes=args.num_classes, img_size=args.img_size,
                         precision=args.quantize or args.precision, deploy_form=not args.no_deploy_form,
                         calib=args.calib, calib_size=args.calib_size, keep_float=args.keep_float, seed=args.seed,
                         auto_fallback=args.auto_fallback, fallback_sqnr=args.fallback_sqnr, io=args.io,
                         image_input=args.image_input, output=args.output, validate_data=args.validate_data,
                         force=args.force, dynamic_batch=args.dynamic_batch, thresholds=bounds(args),
                         threads=args.threads, arm64=arm64_request(args))


def run(args: argparse.Namespace, console: Console) -> int:
    from ..console import ConsoleReporter
    from ..pipeline import run_export

    manifests = run_export(options(args), ConsoleReporter(console, debug=args.debug))
    _print_table(console, manifests)
    for m in manifests:
        if m.parity.arm64 is not None:
            console.print(arm64_table(m.parity.arm64))
    write_json(args.json, [m.to_dict(with_path=True) for m in manifests])
    failed = [m for m in manifests if m.parity.status == "failed"]
    for m in failed:
        console.print(f"[red]parity failed[/] for {m.target}: " + "; ".join(m.parity.failures)
                      + " (artifact kept, marked failed in its manifest)")
    return 2 if failed else 0


def gate_cell(g) -> str:
    colour = {"passed": "green", "failed": "red"}.get(g.status, "yellow")
    m = g.metrics
    if "sqnr_db" in g.bounds:
        shown = f"SQNR {m.sqnr_db:.1f} dB"
    elif "max_abs" in g.bounds:
        shown = f"max|Δ| {m.max_abs:.1e}"
    elif "cosine" in g.bounds:
        shown = f"cos {m.cosine:.6f}"
    else:
        shown = f"top-1 {m.top1_agreement:.1%} (SQNR {m.sqnr_db:.1f} dB)"
    return f"[{colour}]{g.status}[/] {shown}"


def _print_table(console: Console, manifests) -> None:
    table = Table(title="effmod export")
    for col in ("target", "precision", "size", "export s", "parity vs PyTorch", "run by", "delegation", "artifact"):
        table.add_column(col)
    for m in manifests:
        d = m.delegation
        deleg = f"{d.delegated_nodes}/{d.total_nodes} {d.delegate}" if d else "-"
        parity = f"correctness {gate_cell(m.parity.correctness)}; quality {gate_cell(m.parity.quality)}"
        table.add_row(m.target, m.precision, f"{m.artifact_bytes / 1e6:.1f} MB", f"{m.export_seconds:.1f}",
                      parity, m.parity.engine, deleg, Path(m.path).name)
    console.print(table)
    if manifests:
        console.print(f"artifacts and manifests (<artifact>.json) in {Path(manifests[0].path).parent}")


COMMAND = Command("export", "export Core ML / TFLite / ExecuTorch / ONNX artifacts with parity checks",
                  add_arguments, run)
