"""Parity: run a fresh artifact in its real runtime and compare with the PyTorch model."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..eval.metrics import compare
from ..runtime import load as load_runner

# Per precision: metric -> (bound kind, value). Overridable from the CLI.
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "fp32": {"max_abs": 1e-4},
    "fp16": {"cosine": 0.9999},
    # INT8 against the float model: SQNR of the logits (issue #5: ≥ 25 dB on real photos)
    "int8": {"sqnr_db": 25.0},
    "int8-weights": {"sqnr_db": 25.0},
}
# INT8 against PyTorch's fake-quantized model (same rounding in float): only kernel rounding differs
FAKE_QUANT_MIN_SQNR_DB = 25.0
_UPPER = {"max_abs", "mean_abs"}  # metrics that must stay below their bound; others above


def evaluate(metrics: dict, thresholds: dict) -> list[str]:
    failures = [f"{metrics['non_finite']} non-finite outputs"] if metrics.get("non_finite") else []
    for key, bound in thresholds.items():
        value = metrics[key]
        ok = value <= bound if key in _UPPER else value >= bound
        if not ok:
            failures.append(f"{key} {value:.3g} {'>' if key in _UPPER else '<'} {bound:g}")
    return failures


def check_parity(artifact: Path, io: dict, reference: np.ndarray, x: np.ndarray, precision: str,
                 data_desc: str, overrides: dict | None = None, threads: int | None = None,
                 quant_reference: np.ndarray | None = None) -> dict:
    thresholds = {**DEFAULT_THRESHOLDS.get(precision, {}), **(overrides or {})}
    base = {"data": data_desc, "n_images": int(len(x)), "thresholds": thresholds, "reference": "PyTorch eager, original model"}
    runner = load_runner(artifact, threads=threads, manifest=io)
    out = runner(x)
    metrics = compare(reference, out)
    failures = evaluate(metrics, thresholds)
    result = {**base, "status": "failed" if failures else "passed", "engine": runner.engine,
              "metrics": metrics, "failures": failures}
    if quant_reference is not None:
        fq = compare(quant_reference, out)
        result["vs_fake_quant"] = {"reference": "PyTorch fake-quantized model (PT2E)", "metrics": fq,
                                   "min_sqnr_db": FAKE_QUANT_MIN_SQNR_DB}
        if fq["sqnr_db"] < FAKE_QUANT_MIN_SQNR_DB:
            result["failures"].append(f"vs fake-quant SQNR {fq['sqnr_db']:.1f} dB < {FAKE_QUANT_MIN_SQNR_DB:g}")
            result["status"] = "failed"
    created = [e for e in getattr(runner, "non_finite", []) if e.from_finite]
    if created:
        # Name where inf/nan first appears (fp16 overflow in a norm, softmax, ...), not just that it did.
        result["non_finite_origin"] = sorted({f"{e.kind} first produced by {e.op}" for e in created})
        result["failures"].append(f"non-finite values first produced by {created[0].op}")
        result["status"] = "failed"
    return result
