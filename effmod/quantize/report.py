"""``effmod quantize-report``: per-unit INT8 sensitivity on calibration images, as a table + JSON/MD."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import EffmodError
from ..export.reparameterize import reparameterize
from ..export.targets import get_target
from ..models import create_model
from .calibration import load_calibration
from .sensitivity import sensitivity

PT2E_TARGETS = ("executorch", "coreml")
MAX_CALIB, MAX_EVAL = 64, 32  # each unit is re-quantized: keep one unit's pass to seconds


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


def default_keep_float(target: str) -> tuple[str, ...]:
    if target == "executorch":
        from .executorch import DEFAULT_KEEP_FLOAT
    else:
        from .coreml import DEFAULT_KEEP_FLOAT
    return DEFAULT_KEEP_FLOAT


def split_calibration(images):
    """Observers see the first images, SQNR is measured on the last ones (disjoint when there are
    enough images)."""
    n = len(images)
    n_eval = min(MAX_EVAL, max(1, n // 3)) if n > 1 else 1
    calib = images[: min(MAX_CALIB, max(1, n - n_eval))]
    return calib, images[n - n_eval:]


def run_report(opts: ReportOptions, reporter) -> dict:
    if opts.target not in PT2E_TARGETS:
        raise EffmodError(f"quantize-report covers {', '.join(PT2E_TARGETS)} (PT2E INT8), not {opts.target}",
                          hint="tflite and onnx use op-type recipes; their SQNR is in the export manifest")
    with reporter.stage("load model"):
        model = create_model(opts.model, num_classes=opts.num_classes, weights=opts.weights, img_size=opts.img_size)
    with reporter.stage("calibration images"):
        cal = load_calibration(opts.calib, model.data_config, opts.calib_size, opts.seed)
    for w in cal.warnings:
        reporter.warn(w)
    deploy = reparameterize(model, options=get_target(opts.target).DEPLOY_OPTIONS)
    calib, eval_x = split_calibration(cal.images)
    with reporter.progress("per-unit sensitivity", total=1) as update:
        result = sensitivity(deploy, torch.from_numpy(calib[:1]), calib, eval_x, default_keep_float(opts.target),
                             progress=update)
    result.update({"model": opts.model, "weights": opts.weights, "target": opts.target,
                   "calibration": {**cal.manifest(), "used_for_observers": len(calib), "used_for_sqnr": len(eval_x)}})
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
