"""How close an artifact's outputs are to PyTorch's."""
from __future__ import annotations

import numpy as np


def compare(ref: np.ndarray, out: np.ndarray) -> dict[str, float]:
    """Per-batch metrics between reference logits and artifact logits, both [N, C]."""
    ref = np.asarray(ref, np.float64)
    out = np.asarray(out, np.float64)
    if ref.shape != out.shape:
        raise ValueError(f"output shape {out.shape} differs from reference {ref.shape}")
    non_finite = int(np.sum(~np.isfinite(out)))
    err = out - ref
    cos = np.sum(ref * out, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(out, axis=1) + 1e-30)
    noise = float(np.sum(err ** 2))
    sqnr = float("inf") if noise == 0 else 10 * np.log10(float(np.sum(ref ** 2)) / noise)
    k = min(5, ref.shape[1])
    top1 = float(np.mean(ref.argmax(1) == out.argmax(1)))
    ref5 = np.argsort(-ref, axis=1)[:, :k]
    out5 = np.argsort(-out, axis=1)[:, :k]
    top5 = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ref5, out5)]))
    return {
        "max_abs": float(np.abs(err).max()),
        "mean_abs": float(np.abs(err).mean()),
        "cosine": float(cos.min()),
        "sqnr_db": float(sqnr),
        "top1_agreement": top1,
        "top5_agreement": top5,
        "non_finite": non_finite,
    }
