"""Run an artifact in its real runtime and judge it: ``run_parity`` (both gates, via ``parity.judge``),
``simulated_reference`` (what a quantized artifact is judged against) and ``run_artifact`` (a runtime
failure becomes one line naming the artifact and its engine)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import EffmodError, first_line
from ..manifest import TensorSpec
from ..parity import ParityResult, judge
from ..precision import Precision
from ..targets import Target, TargetResult, for_artifact, load_runner
from .inputs import ValidationData


def run_artifact(runner, x: np.ndarray) -> np.ndarray:
    try:
        return runner(x)
    except EffmodError as e:
        if str(runner.path) in e.message or runner.path.name in e.message:
            raise
        # e.g. the executor names the op that failed, not the package it came from
        raise EffmodError(f"{runner.path} failed to run in {runner.engine}: {e.message}", hint=e.hint) from None
    except Exception as e:  # noqa: BLE001 - a runtime failing on an artifact is reported, with the artifact
        raise EffmodError(f"{runner.path} failed to run in {runner.engine} ({first_line(e)})",
                          hint="the artifact may be corrupt: re-export it (effmod validate re-checks it)") from None


def simulated_reference(target: Target, result: TargetResult, artifact: Path, x: np.ndarray,
                        threads: int | None = None) -> tuple[np.ndarray | None, str | None]:
    """The simulated quantized reference's outputs on ``x`` (quantized precisions only): PyTorch's
    fake-quantized model where the recipe has one, else the artifact run by reference kernels."""
    if result.fake_quant is not None:
        from ..quantize.pt2e import run_module

        return run_module(result.fake_quant, x), result.fake_quant_desc
    if target.reference_options is not None:
        return run_artifact(target.reference_runner(artifact, result.input, threads), x), target.reference_desc
    return None, None


def artifact_outputs(artifact: Path, input_spec: TensorSpec | None, x: np.ndarray, threads: int | None = None):
    """The artifact's outputs on ``x`` in its real runtime, and the runner that computed them."""
    runner = load_runner(artifact, threads=threads, input_spec=input_spec)
    return run_artifact(runner, x), runner


def run_parity(artifact: Path, input_spec: TensorSpec | None, validation: ValidationData, reference: np.ndarray,
               precision: Precision, target: Target | None = None, overrides: dict | None = None,
               threads: int | None = None, simulated: np.ndarray | None = None,
               simulated_desc: str | None = None) -> ParityResult:
    """Run ``artifact`` in its real runtime on the validation images and judge it (both gates)."""
    target = target or for_artifact(artifact)
    out, runner = artifact_outputs(artifact, input_spec, validation.x, threads)
    created = [(e.kind, e.op) for e in getattr(runner, "non_finite", []) if e.from_finite]
    result = judge(out, reference, precision, validation.description, runner.engine, validation.in_distribution,
                   overrides, simulated, simulated_desc, target.correctness_bounds.get(precision), created,
                   validation.path)
    result.host_notes = runner.host_notes(validation.x, out)
    return result
