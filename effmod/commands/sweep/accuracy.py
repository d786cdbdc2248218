"""Accuracy of one artifact over a labelled set, in its real runtime, against the PyTorch fp32 model."""
from __future__ import annotations

import numpy as np

from ...eval.metrics import compare


def topk_hits(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    order = np.argsort(-logits, axis=1)[:, :5]
    top1 = float(np.mean(order[:, 0] == labels) * 100)
    top5 = float(np.mean(np.any(order == labels[:, None], axis=1)) * 100)
    return top1, top5


def accuracy_row(logits: np.ndarray, labels: np.ndarray, reference: np.ndarray) -> dict:
    top1, top5 = topk_hits(logits, labels)
    cmp = compare(reference, logits)
    return {
        "top1": round(top1, 3),
        "top5": round(top5, 3),
        "agreement": round(float(np.mean(logits.argmax(1) == reference.argmax(1)) * 100), 3),
        "sqnr_db": round(float(cmp.sqnr_db), 2),
        "max_abs": float(cmp.max_abs),
        "non_finite": int((~np.isfinite(logits)).any(axis=1).sum()),
    }
