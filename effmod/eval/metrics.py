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
