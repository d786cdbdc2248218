"""How close an artifact's outputs are to a reference's."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Metrics:
    max_abs: float
    mean_abs: float
    cosine: float          # the worst (lowest) per-sample cosine
    sqnr_db: float
    top1_agreement: float  # fraction of samples whose top-1 class is the reference's
    top5_agreement: float
    non_finite: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Metrics:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})


def sqnr_db(ref: np.ndarray, out: np.ndarray) -> float:
    ref = np.asarray(ref, np.float64)
    noise = float(np.sum((np.asarray(out, np.float64) - ref) ** 2))
    return float("inf") if noise == 0 else float(10 * np.log10(float(np.sum(ref ** 2)) / noise))


def compare(ref: np.ndarray, out: np.ndarray) -> Metrics:
    """Metrics between reference logits and artifact logits, both [N, C]."""
    ref = np.asarray(ref, np.float64)
    out = np.asarray(out, np.float64)
    if ref.shape != out.shape:
        raise ValueError(f"output shape {out.shape} differs from reference {ref.shape}")
    non_finite = int(np.sum(~np.isfinite(out)))
    err = out - ref
    cos = np.sum(ref * out, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(out, axis=1) + 1e-30)
    k = min(5, ref.shape[1])
    top1 = float(np.mean(ref.argmax(1) == out.argmax(1)))
    ref5 = np.argsort(-ref, axis=1)[:, :k]
    out5 = np.argsort(-out, axis=1)[:, :k]
    top5 = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ref5, out5)]))
    return Metrics(max_abs=float(np.abs(err).max()), mean_abs=float(np.abs(err).mean()), cosine=float(cos.min()),
                   sqnr_db=sqnr_db(ref, out), top1_agreement=top1, top5_agreement=top5, non_finite=non_finite)


@dataclass
class TensorStats:
    """Error of one tensor against its reference, accumulated over images (effmod debug)."""

    signal: float = 0.0
    noise: float = 0.0
    max_abs: float = 0.0
    cosine: float = 1.0

    def add(self, ref: np.ndarray, out: np.ndarray) -> None:
        ref, out = np.asarray(ref, np.float64).ravel(), np.asarray(out, np.float64).ravel()
        err = out - ref
        self.signal += float(ref @ ref)
        self.noise += float(err @ err)
        self.max_abs = max(self.max_abs, float(np.abs(err).max()) if err.size else 0.0)
        denom = np.linalg.norm(ref) * np.linalg.norm(out)
        self.cosine = min(self.cosine, float(ref @ out / denom) if denom else 1.0)

    @property
    def sqnr_db(self) -> float:
        if self.noise == 0:
            return float("inf")
        return float(10 * np.log10(max(self.signal, 1e-30) / self.noise))
