"""Parity: run a fresh artifact in its real runtime and compare with the PyTorch model."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..eval.metrics import compare
from ..runtime import load as load_runner
from ..runtime.coreml import CoreMLUnavailable

# Per precision: metric -> (bound kind, value). Overridable from the CLI.
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "fp32": {"max_abs": 1e-4},
    "fp16": {"cosine": 0.9999},
}
_UPPER = {"max_abs", "mean_abs"}  # metrics that must stay below their bound; others above


def evaluate(metrics: dict, thresholds: dict) -> list[str]:
    failures = []
    for key, bound in thresholds.items():
        value = metrics[key]
        ok = value <= bound if key in _UPPER else value >= bound
        if not ok:
            failures.append(f"{key} {value:.3g} {'>' if key in _UPPER else '<'} {bound:g}")
    return failures


def check_parity(artifact: Path, io: dict, reference: np.ndarray, x: np.ndarray, precision: str,
                 data_desc: str, overrides: dict | None = None, threads: int | None = None,
                 image_input: bool = False, data_config: dict | None = None) -> dict:
    thresholds = {**DEFAULT_THRESHOLDS.get(precision, {}), **(overrides or {})}
    base = {"data": data_desc, "n_images": int(len(x)), "thresholds": thresholds, "reference": "PyTorch eager, original model"}
    try:
        runner = load_runner(artifact, threads=threads, manifest=io)
    except CoreMLUnavailable as e:
        return {**base, "status": "not_run", "engine": None,
                "reason": f"{e.message} ({e.hint}); the Core ML-on-Linux executor is not built yet"}
    out = runner(x)
    metrics = compare(reference, out)
    failures = evaluate(metrics, thresholds)
    return {**base, "status": "failed" if failures else "passed", "engine": runner.engine,
            "metrics": metrics, "failures": failures}
