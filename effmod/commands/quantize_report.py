"""``effmod quantize-report``: per-unit INT8 sensitivity on calibration images, as a table + JSON/MD."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import argparse

from rich.console import Console
from rich.table import Table

from ..errors import EffmodError
from .base import Command, model_options, split_list


@dataclass
class ReportOptions:
    model: str = "efficientmod_xxs"
    weights: str | None = None
    num_classes: int | None = None        # None: from the weights, else 1000
    img_size: int | None = None           # None: from the weights, else 224
    target: str = "executorch"
    calib: str | None = None
    calib_size: int = 96
    seed: int = 0
    output: str = "effmod-out"
    units: tuple[str, ...] = ()          # rank only these units (globs); () ranks every unit


def run_report(opts: ReportOptions, reporter) -> dict:
    import torch

    from ..deploy import reparameterize
    from ..models import create_model
    from ..quantize.calibration import load_calibration
    from ..quantize.sensitivity import sensitivity, split_calibration
    from ..targets import TARGETS, by_name

    target = by_name(opts.target)
    if not target.has_float_islands:
        covered = ", ".join(t.name for t in TARGETS if t.has_float_islands)
        raise EffmodError(f"quantize-report covers {covered} (PT2E INT8), not {opts.target}",
                          hint=" and ".join(t.name for t in TARGETS if not t.has_float_islands)
                          + " use op-type recipes; their SQNR is in the export manifest")
    with reporter.stage("load model"):
        model = create_model(opts.model, num_classes=opts.num_classes, weights=opts.weights, img_size=opts.img_size)
    with reporter.stage("calibration images"):
        cal = load_calibration(opts.calib, model.info.data_config, opts.calib_size, opts.seed)
    for w in cal.warnings:
        reporter.warn(w)
    deploy = reparameterize(model, options=target.deploy_options)
    calib, eval_x = split_calibration(cal.images)
    with reporter.progress("per-unit sensitivity", total=1) as update:
        result = sensitivity(deploy, torch.from_numpy(calib[:1]), calib, eval_x, target.default_keep_float,
                             progress=update, only=opts.units)
    result.update({"model": opts.model, "weights": opts.weights, "target": opts.target,
                   "calibration": {**asdict(cal.facts()), "used_for_observers": len(calib), "used_for_sqnr": len(eval_x)}})
    return result


def write_report(result: dict, output: str) -> tuple[Path, Path]:
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{result['model']}_{result['target']}_int8_sensitivity"
    jpath, mpath = out / f"{stem}.json", out / f"{stem}.md"
    jpath.write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# INT8 sensitivity: {result['model']} ({result['target']})", "",
             f"All quantized (float: {', '.join(result['base_keep_float']) or 'nothing'}): "
             f"SQNR {result['all_quantized']['sqnr_db']:.1f} dB vs fp32, "
             f"top-1 agreement {result['all_quantized']['top1_agreement']:.0%}.", "",
             f"Method: {result['method']}.", "", "| rank | unit | kind | SQNR dB (only this unit INT8) |",
             "|---|---|---|---|"]
    lines += [f"| {i + 1} | {r['unit']} | {r['kind']} | {r['sqnr_db']:.1f} |" for i, r in enumerate(result["units"])]
    mpath.write_text("\n".join(lines) + "\n")
    return jpath, mpath


def add_arguments(p: argparse.ArgumentParser) -> None:
    model_options(p)
    p.add_argument("--target", default="executorch", help="a target with an INT8 recipe of float islands "
                                                          "(executorch or coreml)")
    p.add_argument("--calib", help="folder of calibration images (default: built-in photos, with a warning)")
    p.add_argument("--calib-size", type=int, default=96)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--units", help="rank only these units, comma-separated globs (e.g. stem,stages.3.*); "
                                   "default: every unit (one INT8 quantization each)")
    p.add_argument("--output", default="effmod-out", help="where the JSON and Markdown report go")


def run(args: argparse.Namespace, console: Console) -> int:
    from ..console import ConsoleReporter

    opts = ReportOptions(model=args.model, weights=args.weights, num_classes=args.num_classes, img_size=args.img_size,
                         target=args.target, calib=args.calib, calib_size=args.calib_size, seed=args.seed,
                         output=args.output, units=tuple(split_list(args.units or "")))
    result = run_report(opts, ConsoleReporter(console, debug=args.debug))
    base = result["all_quantized"]
    table = Table(title=f"INT8 sensitivity, {args.model} ({args.target}): all quantized {base['sqnr_db']:.1f} dB "
                        f"vs fp32; most sensitive first")
    for col in ("rank", "unit", "kind", "SQNR dB, only this unit INT8", "top-1 agr."):
        table.add_column(col)
    for i, r in enumerate(result["units"]):
        table.add_row(str(i + 1), r["unit"], r["kind"], f"{r['sqnr_db']:.1f}", f"{r['top1_agreement']:.0%}")
    console.print(table)
    jpath, mpath = write_report(result, args.output)
    console.print(f"report: {jpath} and {mpath}; keep units in float with --keep-float UNIT or let --auto-fallback choose")
    return 0


COMMAND = Command("quantize-report", "per-block INT8 sensitivity (SQNR vs fp32) on calibration images",
                  add_arguments, run)
