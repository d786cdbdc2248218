"""Parity gates: how an artifact's outputs are judged. Pure: the commands run the artifact in its
runtime and hand the outputs here.

Two questions, two gates:

- **correctness** — does the runtime compute what it should? The artifact against a reference that
  computes the same thing: PyTorch fp32 for fp32/fp16 artifacts, a *simulated quantized* reference for
  INT8 (PyTorch's fake-quantized model, or the same quantized graph run by reference kernels). Tight
  bounds; a wrong kernel, a tampered weight or a wrong layout fails it.
- **quality** — is the quantization lossy beyond what is acceptable? Top-1 agreement with the original
  fp32 model on data that fits the model (the validation sample that travels with the weights, or
  ``--validate-data``). SQNR is reported, not judged. On data that does not fit the model (stock photos
  for a CIFAR model) agreement means little, so the gate reports but does not judge.

Defaults were chosen from measurements on the built-in CIFAR-10 model across all targets
(docs/parity.md has the table); every bound can be overridden from the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .eval.metrics import Metrics, compare
from .precision import Precision

# correctness, per precision: metric -> bound against the precision's reference
CORRECTNESS: dict[Precision, dict[str, float]] = {
    "fp32": {"max_abs": 1e-4},           # vs PyTorch fp32
    "fp16": {"cosine": 0.9999},          # vs PyTorch fp32 (fp16 rounding of every op)
    "int8": {"sqnr_db": 30.0},           # vs the simulated quantized reference; targets may set their own
    "int8-weights": {"sqnr_db": 40.0},   # vs PyTorch with the same weight quantization
}
# quality, per precision: top-1 agreement with the original fp32 model on in-distribution data
QUALITY: dict[Precision, dict[str, float]] = {
    "fp32": {"top1_agreement": 0.99},
    "fp16": {"top1_agreement": 0.99},
    "int8": {"top1_agreement": 0.93},
    "int8-weights": {"top1_agreement": 0.97},
}
# Quality is judged on at least this many images: with the 6 built-in photos one flip is 16.7 points, and
# the golden ImageNet-class checkpoint (random weights) flips one in INT8 on every target.
MIN_QUALITY_IMAGES = 50
_UPPER = {"max_abs", "mean_abs"}  # metrics that must stay below their bound; others above

GateStatus = Literal["passed", "failed", "not judged"]
Status = Literal["passed", "failed"]


@dataclass
class Gate:
    reference: str                     # what the artifact's outputs were compared with
    metrics: Metrics
    bounds: dict[str, float]
    status: GateStatus
    failures: list[str] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict:
        d = {"reference": self.reference, "status": self.status, "bounds": self.bounds,
             "metrics": self.metrics.to_dict(), "failures": self.failures}
        if self.note:
            d["note"] = self.note
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Gate:
        return cls(d["reference"], Metrics.from_dict(d["metrics"]), dict(d["bounds"]), d["status"],
                   list(d.get("failures", [])), d.get("note"))


@dataclass
class ParityResult:
    data: str                          # what the artifact was run on, e.g. "200 images of the validation sample ..."
    n_images: int
    in_distribution: bool              # whether the data fits the model (decides if quality is judged)
    engine: str                        # what really executed the artifact
    status: Status
    correctness: Gate
    quality: Gate
    failures: list[str] = field(default_factory=list)
    data_path: str | None = None       # the folder the images came from (None: built-in photos)
    non_finite_origin: list[str] | None = None
    artifact_sha256_matches_manifest: bool | None = None  # set by effmod validate
    # effmod validate, quantized artifacts: the artifact against the same recipe rebuilt from PyTorch and
    # run by the same runtime (the converters are deterministic: a good artifact matches it exactly)
    rebuild: Gate | None = None
    arm64: Arm64Parity | None = None   # --arch arm64: the aarch64 runtime under emulation, per CPU
    host_notes: list[str] = field(default_factory=list)  # what this host's CPU does unlike a phone (measured)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def fail(self, reason: str) -> None:
        self.failures.append(reason)
        self.status = "failed"

    def to_dict(self) -> dict:
        d = {"status": self.status, "data": self.data, "n_images": self.n_images,
             "in_distribution": self.in_distribution, "data_path": self.data_path, "engine": self.engine,
             "correctness": self.correctness.to_dict(), "quality": self.quality.to_dict(), "failures": self.failures}
        if self.non_finite_origin is not None:
            d["non_finite_origin"] = self.non_finite_origin
        if self.rebuild is not None:
            d["rebuild"] = self.rebuild.to_dict()
        if self.arm64 is not None:
            d["arm64"] = self.arm64.to_dict()
        if self.host_notes:
            d["host_notes"] = self.host_notes
        if self.artifact_sha256_matches_manifest is not None:
            d["artifact_sha256_matches_manifest"] = self.artifact_sha256_matches_manifest
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ParityResult:
        return cls(data=d["data"], n_images=d["n_images"], in_distribution=bool(d.get("in_distribution")),
                   engine=d["engine"], status=d["status"], correctness=Gate.from_dict(d["correctness"]),
                   quality=Gate.from_dict(d["quality"]), failures=list(d.get("failures", [])),
                   data_path=d.get("data_path"), non_finite_origin=d.get("non_finite_origin"),
                   rebuild=Gate.from_dict(d["rebuild"]) if d.get("rebuild") else None,
                   arm64=Arm64Parity.from_dict(d["arm64"]) if d.get("arm64") else None,
                   artifact_sha256_matches_manifest=d.get("artifact_sha256_matches_manifest"),
                   host_notes=list(d.get("host_notes", [])))


# The rebuild gate: converters and calibration are deterministic, so a good artifact matches its rebuild
# bit for bit (measured: inf dB for all four INT8 targets of the built-in model). A weight of one block
# scaled by 1.05 in an INT8 ONNX measured 28.6 dB against the rebuild, while correctness still passed.
REBUILD_MIN_SQNR_DB = 60.0


def judge_rebuild(out: np.ndarray, rebuilt: np.ndarray, engine: str) -> Gate:
    metrics = compare(rebuilt, out)
    bounds = {"sqnr_db": REBUILD_MIN_SQNR_DB}
    failures = evaluate(metrics, bounds)
    return Gate(f"the same recipe rebuilt from PyTorch, run by {engine}", metrics, bounds,
                "failed" if failures else "passed", failures)


def evaluate(metrics: Metrics, bounds: dict) -> list[str]:
    failures = []
    for key, bound in bounds.items():
        value = getattr(metrics, key)
        ok = value <= bound if key in _UPPER else value >= bound
        if not ok:
            failures.append(f"{key} {value:.4g} {'>' if key in _UPPER else '<'} {bound:g}")
    return failures


def split_overrides(overrides: dict | None) -> tuple[dict, dict]:
    """CLI bounds: ``top1_agreement`` is the quality gate's, the rest are correctness bounds."""
    overrides = overrides or {}
    quality = {k: v for k, v in overrides.items() if k == "top1_agreement"}
    return {k: v for k, v in overrides.items() if k not in quality}, quality


def judge(out: np.ndarray, fp32_reference: np.ndarray, precision: Precision, data_desc: str, engine: str,
          in_distribution: bool, overrides: dict | None = None, simulated: np.ndarray | None = None,
          simulated_desc: str | None = None, correctness_bounds: dict | None = None,
          created_non_finite: list[tuple[str, str]] | None = None, data_path: str | None = None) -> ParityResult:
    """Judge an artifact's outputs ``out`` on the images behind ``data_desc``.

    ``fp32_reference``: the original PyTorch model's outputs. ``simulated``: for quantized precisions,
    the simulated quantized reference's outputs (``simulated_desc`` says what it is); without one the
    correctness gate of a quantized artifact cannot be judged and fails. ``correctness_bounds``: the
    target's own bounds (they replace the precision's defaults). ``created_non_finite``: (kind, op) where
    the runtime saw inf/nan appear from finite inputs."""
    c_over, q_over = split_overrides(overrides)
    quantized = precision in ("int8", "int8-weights")
    if quantized:
        c_ref_out, c_ref = simulated, simulated_desc or "simulated quantized reference"
    else:
        c_ref_out, c_ref = fp32_reference, "PyTorch fp32, original model"
    c_bounds = {**(correctness_bounds or CORRECTNESS[precision]), **c_over}
    if c_ref_out is None:
        correctness = Gate(c_ref, compare(fp32_reference, out), c_bounds, "failed",
                           ["no simulated quantized reference to judge this INT8 artifact against"])
    else:
        c_metrics = compare(c_ref_out, out)
        c_fail = evaluate(c_metrics, c_bounds)
        correctness = Gate(c_ref, c_metrics, c_bounds, "failed" if c_fail else "passed", c_fail)
    if correctness.metrics.non_finite:
        correctness.failures.append(f"{correctness.metrics.non_finite} non-finite outputs")
        correctness.status = "failed"

    q_metrics = compare(fp32_reference, out)
    q_bounds = {**QUALITY[precision], **q_over}
    q_fail = evaluate(q_metrics, q_bounds)
    if in_distribution and len(out) >= MIN_QUALITY_IMAGES:
        quality = Gate("PyTorch fp32, original model", q_metrics, q_bounds, "failed" if q_fail else "passed", q_fail)
    else:
        why = ("the data does not fit the model (no validation sample travels with these weights)" if not in_distribution
               else f"{len(out)} images are too few to judge top-1 agreement (one flip is {100 / len(out):.1f} points; "
                    f"at least {MIN_QUALITY_IMAGES} needed)")
        quality = Gate("PyTorch fp32, original model", q_metrics, q_bounds, "not judged", [],
                       note=f"{why}: pass --validate-data DIR with images of its classes to judge quality")
    failures = [f"correctness: {f}" for f in correctness.failures] + [f"quality: {f}" for f in quality.failures]
    result = ParityResult(data=data_desc, n_images=int(len(out)), in_distribution=in_distribution, engine=engine,
                          status="failed" if failures else "passed", correctness=correctness, quality=quality,
                          failures=failures, data_path=data_path)
    if created_non_finite:
        # Name where inf/nan first appears (fp16 overflow in a norm, softmax, ...), not just that it did.
        result.non_finite_origin = sorted({f"{kind} first produced by {op}" for kind, op in created_non_finite})
        result.fail(f"non-finite values first produced by {created_non_finite[0][1]}")
    return result


# ----------------------------------------------------------------------------- ARM kernels (--arch arm64)
@dataclass
class CpuRun:
    """One emulated ARM CPU's run of an artifact: the same gates as the x86 run, and how far it is from
    the x86 run of the same artifact on the same images."""

    cpu: str                           # the QEMU model, e.g. cortex-a55
    kernel_family: str                 # neon, dotprod, i8mm or sme: from the CPU features the runtime sees
    features: list[str]                # AT_HWCAP/AT_HWCAP2 names inside the emulator
    engine: str
    status: Status
    correctness: Gate
    quality: Gate
    max_abs_vs_x86: float
    logits_differ: int                 # logits not bit-identical to the x86 run's
    logits: int
    top1_agreement_vs_x86: float
    sqnr_vs_x86_db: float
    seconds: float                     # the emulated run (slower than a phone: says nothing of speed)
    same_as: str | None = None         # bit-identical to this CPU's run
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("cpu", "kernel_family", "features", "engine", "status", "max_abs_vs_x86",
                                           "logits_differ", "logits", "top1_agreement_vs_x86", "sqnr_vs_x86_db",
                                           "seconds", "same_as", "failures")}
        return {**d, "correctness": self.correctness.to_dict(), "quality": self.quality.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> CpuRun:
        return cls(**{**d, "correctness": Gate.from_dict(d["correctness"]), "quality": Gate.from_dict(d["quality"])})


@dataclass
class Arm64Parity:
    """``--arch arm64``: the artifact in the aarch64 build of its runtime, under QEMU user-mode, per CPU."""

    emulator: str                      # e.g. "qemu-aarch64 10.0.13"
    runtime: str                       # the aarch64 runtime and its version
    n_images: int
    data: str
    status: Status
    cpus: list[CpuRun]
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"emulator": self.emulator, "runtime": self.runtime, "n_images": self.n_images, "data": self.data,
                "status": self.status, "failures": self.failures, "cpus": [c.to_dict() for c in self.cpus]}

    @classmethod
    def from_dict(cls, d: dict) -> Arm64Parity:
        return cls(d["emulator"], d["runtime"], d["n_images"], d["data"], d["status"],
                   [CpuRun.from_dict(c) for c in d["cpus"]], list(d.get("failures", [])))
