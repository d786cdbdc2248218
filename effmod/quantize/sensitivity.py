"""Which parts of the model INT8 hurts, and which to keep in float.

Units are the deploy form's blocks: ``stem``, every ``stages.i.j`` block, ``head``. A unit's
sensitivity is the SQNR (dB) of the model output against fp32 when *only that unit* is quantized
(the target's default float islands stay float), measured with PT2E fake quantization on
calibration images — the XNNPACK INT8 scheme that the ExecuTorch and Core ML recipes use. Low SQNR =
sensitive. ``auto_fallback`` keeps the most sensitive units in float, one at a time, until the fully
quantized model reaches ``min_sqnr``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from ..errors import EffmodError
from ..eval.metrics import compare
from .keep_float import resolve_keep_float
from .pt2e import fake_quantize, run_module, xnnpack_quantizer


MAX_CALIB, MAX_EVAL = 64, 32  # each unit is re-quantized: keep one unit's pass to seconds


def split_calibration(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observers see the first images, SQNR is measured on the last ones (disjoint when there are
    enough images)."""
    n = len(images)
    n_eval = min(MAX_EVAL, max(1, n // 3)) if n > 1 else 1
    calib = images[: min(MAX_CALIB, max(1, n - n_eval))]
    return calib, images[n - n_eval:]


def units(model: nn.Module) -> list[str]:
    names = [n for n, _ in model.named_modules() if n == "stem" or n == "head"
             or (n.startswith("stages.") and n.count(".") == 2)]
    if not names:
        raise EffmodError("sensitivity analysis needs an EfficientMod deploy form (stem/stages/head)")
    return names


@dataclass
class Measured:
    kept_float: list[str]
    sqnr_db: float
    top1_agreement: float


def _measure(model, example, calib, eval_x, float_out, keep_names) -> Measured:
    fq = fake_quantize(model, example, calib, xnnpack_quantizer(model, keep_names))
    m = compare(float_out, run_module(fq, eval_x))
    return Measured(keep_names, m.sqnr_db, m.top1_agreement)


def _float_out(model, eval_x):
    with torch.no_grad():
        return model(torch.from_numpy(eval_x)).numpy()


def select_units(model: nn.Module, patterns: tuple[str, ...]) -> list[str]:
    """The units whose names match any of ``patterns`` (globs: ``stages.3.*``); all units without patterns."""
    import fnmatch

    from ..errors import EffmodError

    all_units = units(model)
    if not patterns:
        return all_units
    for p in patterns:
        if not fnmatch.filter(all_units, p):
            raise EffmodError(f"--units {p} matches no unit", hint="units: " + ", ".join(all_units))
    return [u for u in all_units if any(fnmatch.fnmatch(u, p) for p in patterns)]


def sensitivity(model: nn.Module, example: torch.Tensor, calib: np.ndarray, eval_x: np.ndarray,
                base_keep: tuple[str, ...] = (), progress=None, only: tuple[str, ...] = ()) -> dict:
    """Per-unit isolated sensitivity plus the all-quantized baseline. ``progress(done, total)``.
    ``only``: rank just the units matching these globs (each costs one PT2E quantization)."""
    base = resolve_keep_float(model, base_keep) if base_keep else []
    float_out = _float_out(model, eval_x)
    all_units = units(model)
    ranked = select_units(model, only)
    full = _measure(model, example, calib, eval_x, float_out, base)
    rows = []
    for i, unit in enumerate(ranked):
        others = [u for u in all_units if u != unit]
        m = _measure(model, example, calib, eval_x, float_out, sorted(set(base + others)))
        kind = type(model.get_submodule(unit)).__name__
        rows.append({"unit": unit, "kind": kind, "sqnr_db": round(m.sqnr_db, 2),
                     "top1_agreement": m.top1_agreement})
        if progress:
            progress(i + 1, len(ranked))
    rows.sort(key=lambda r: r["sqnr_db"])
    return {"all_quantized": {"sqnr_db": round(full.sqnr_db, 2), "top1_agreement": full.top1_agreement},
            "base_keep_float": list(base_keep), "units": rows,
            "method": "output SQNR vs fp32 with only that unit quantized (PT2E fake-quant, XNNPACK INT8 scheme)"}


def auto_fallback(model: nn.Module, example: torch.Tensor, calib: np.ndarray, eval_x: np.ndarray,
                  base_keep: tuple[str, ...], min_sqnr: float, ranking: list[str] | None = None,
                  progress=None) -> dict:
    """Greedy: keep the next most sensitive unit in float until SQNR ≥ ``min_sqnr``."""
    base = resolve_keep_float(model, base_keep) if base_keep else []
    float_out = _float_out(model, eval_x)
    if ranking is None:
        ranking = [r["unit"] for r in sensitivity(model, example, calib, eval_x, base_keep, progress)["units"]]
    kept: list[str] = []
    m = _measure(model, example, calib, eval_x, float_out, base)
    history = [{"kept_float": [], "sqnr_db": round(m.sqnr_db, 2), "top1_agreement": m.top1_agreement}]
    for unit in ranking:
        if m.sqnr_db >= min_sqnr:
            break
        kept.append(unit)
        m = _measure(model, example, calib, eval_x, float_out, sorted(set(base + kept)))
        history.append({"kept_float": list(kept), "sqnr_db": round(m.sqnr_db, 2), "top1_agreement": m.top1_agreement})
    # the cost: these weights stay float (4 bytes, or 2 in fp16 Core ML) instead of 1 byte each
    float_params = sum(p.numel() for u in kept for p in model.get_submodule(u).parameters())
    total_params = sum(p.numel() for p in model.parameters())
    return {"min_sqnr_db": min_sqnr, "reached": m.sqnr_db >= min_sqnr, "kept_float": kept,
            "sqnr_db": round(m.sqnr_db, 2), "history": history, "ranking": ranking,
            "float_params": int(float_params), "float_params_fraction": round(float_params / total_params, 3)}
