"""Parity gates: how an artifact's outputs are judged against a reference's. Pure: the commands run
the artifact in its runtime and hand the outputs here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .eval.metrics import Metrics, compare
from .precision import Precision

# Per precision: metric -> bound. Overridable from the CLI.
DEFAULT_THRESHOLDS: dict[Precision, dict[str, float]] = {
    "fp32": {"max_abs": 1e-4},
    "fp16": {"cosine": 0.9999},
    # INT8 against the float model: SQNR of the logits (issue #5: ≥ 25 dB on real photos)
    "int8": {"sqnr_db": 25.0},
    "int8-weights": {"sqnr_db": 25.0},
}
# INT8 against PyTorch's fake-quantized model (same rounding in float): only kernel rounding differs
FAKE_QUANT_MIN_SQNR_DB = 25.0
_UPPER = {"max_abs", "mean_abs"}  # metrics that must stay below their bound; others above

Status = Literal["passed", "failed"]


@dataclass
class QuantReferenceCheck:
    reference: str
    metrics: Metrics
    min_sqnr_db: float

    def to_dict(self) -> dict:
        return {"reference": self.reference, "metrics": self.metrics.to_dict(), "min_sqnr_db": self.min_sqnr_db}

    @classmethod
    def from_dict(cls, d: dict) -> QuantReferenceCheck:
        return cls(d["reference"], Metrics.from_dict(d["metrics"]), d["min_sqnr_db"])


@dataclass
class ParityResult:
    data: str                         # what the artifact was run on, e.g. "6 built-in sample photos"
    n_images: int
    thresholds: dict[str, float]
    reference: str
    status: Status
    engine: str                       # what really executed the artifact
    metrics: Metrics
    failures: list[str] = field(default_factory=list)
    vs_fake_quant: QuantReferenceCheck | None = None
    non_finite_origin: list[str] | None = None
    artifact_sha256_matches_manifest: bool | None = None  # set by effmod validate

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def fail(self, reason: str) -> None:
        self.failures.append(reason)
        self.status = "failed"

    def to_dict(self) -> dict:
        d = {"data": self.data, "n_images": self.n_images, "thresholds": self.thresholds, "reference": self.reference,
             "status": self.status, "engine": self.engine, "metrics": self.metrics.to_dict(),
             "failures": self.failures}
        if self.vs_fake_quant is not None:
            d["vs_fake_quant"] = self.vs_fake_quant.to_dict()
        if self.non_finite_origin is not None:
            d["non_finite_origin"] = self.non_finite_origin
        if self.artifact_sha256_matches_manifest is not None:
            d["artifact_sha256_matches_manifest"] = self.artifact_sha256_matches_manifest
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ParityResult:
        fq = d.get("vs_fake_quant")
        return cls(data=d["data"], n_images=d["n_images"], thresholds=d["thresholds"], reference=d["reference"],
                   status=d["status"], engine=d["engine"], metrics=Metrics.from_dict(d["metrics"]),
                   failures=list(d.get("failures", [])), vs_fake_quant=QuantReferenceCheck.from_dict(fq) if fq else None,
                   non_finite_origin=d.get("non_finite_origin"),
                   artifact_sha256_matches_manifest=d.get("artifact_sha256_matches_manifest"))


def evaluate(metrics: Metrics, thresholds: dict) -> list[str]:
    failures = [f"{metrics.non_finite} non-finite outputs"] if metrics.non_finite else []
    for key, bound in thresholds.items():
        value = getattr(metrics, key)
        ok = value <= bound if key in _UPPER else value >= bound
        if not ok:
            failures.append(f"{key} {value:.3g} {'>' if key in _UPPER else '<'} {bound:g}")
    return failures


def judge(out: np.ndarray, reference: np.ndarray, precision: Precision, data_desc: str, engine: str,
          overrides: dict | None = None, quant_reference: np.ndarray | None = None,
          created_non_finite: list[tuple[str, str]] | None = None) -> ParityResult:
    """Judge an artifact's outputs ``out`` on the images behind ``data_desc`` against PyTorch's
    ``reference`` (and, for INT8, against the fake-quantized model's ``quant_reference``).
    ``created_non_finite``: (kind, op) where the runtime saw inf/nan appear from finite inputs."""
    thresholds = {**DEFAULT_THRESHOLDS.get(precision, {}), **(overrides or {})}
    metrics = compare(reference, out)
    failures = evaluate(metrics, thresholds)
    result = ParityResult(data=data_desc, n_images=int(len(out)), thresholds=thresholds,
                          reference="PyTorch eager, original model", status="failed" if failures else "passed",
                          engine=engine, metrics=metrics, failures=failures)
    if quant_reference is not None:
        fq = compare(quant_reference, out)
        result.vs_fake_quant = QuantReferenceCheck("PyTorch fake-quantized model (PT2E)", fq, FAKE_QUANT_MIN_SQNR_DB)
        if fq.sqnr_db < FAKE_QUANT_MIN_SQNR_DB:
            result.fail(f"vs fake-quant SQNR {fq.sqnr_db:.1f} dB < {FAKE_QUANT_MIN_SQNR_DB:g}")
    if created_non_finite:
        # Name where inf/nan first appears (fp16 overflow in a norm, softmax, ...), not just that it did.
        result.non_finite_origin = sorted({f"{kind} first produced by {op}" for kind, op in created_non_finite})
        result.fail(f"non-finite values first produced by {created_non_finite[0][1]}")
    return result
