"""Accuracy of one artifact over a labelled set, in its real runtime, against the PyTorch fp32 model."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ...eval.metrics import compare


def topk_hits(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    order = np.argsort(-logits, axis=1)[:, :5]
    top1 = float(np.mean(order[:, 0] == labels) * 100)
    top5 = float(np.mean(np.any(order == labels[:, None], axis=1)) * 100)
    return top1, top5


def run_artifact(runner, batches: Callable[[], object], n: int, progress: Callable[[int], None] | None = None) \
        -> np.ndarray:
    """Logits [n, C]; ``batches()`` yields float32 NCHW chunks (the runner splits to its batch size)."""
    outs, done = [], 0
    for x in batches():
        outs.append(np.asarray(runner(x), dtype=np.float32))
        done += len(x)
        if progress is not None:
            progress(done)
    return np.concatenate(outs)[:n]


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
