"""The runner interface every runtime implements: NCHW float32 in, float32 logits out."""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


def manifest_path(artifact: str | Path) -> Path:
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + ".json")


def read_manifest(artifact: str | Path) -> dict | None:
    p = manifest_path(artifact)
    return json.loads(p.read_text()) if p.is_file() else None


class Runner(ABC):
    """Callable artifact. Subclasses implement ``_run_one`` on one NCHW float32 sample batch of the
    artifact's fixed batch size, handling the artifact's own layout and integer I/O."""

    runtime = "?"          # e.g. "onnxruntime"
    engine = "?"           # what actually executed it, e.g. "onnxruntime CPUExecutionProvider"
    batch: int | None = 1  # fixed batch size of the artifact, None when dynamic

    def __init__(self, path: str | Path, manifest: dict | None = None):
        self.path = Path(path)
        self.manifest = manifest if manifest is not None else read_manifest(path)

    @property
    def input_layout(self) -> str:
        return ((self.manifest or {}).get("input") or {}).get("layout", "NCHW")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 4:
            raise ValueError(f"expected an NCHW batch [N, 3, H, W], got shape {x.shape}")
        if self.batch is None:
            return self._run_one(x)
        outs = [self._run_one(x[i:i + self.batch]) for i in range(0, len(x), self.batch)]
        return np.concatenate(outs, axis=0)

    @abstractmethod
    def _run_one(self, x: np.ndarray) -> np.ndarray:
        """Run one fixed-size batch (NCHW float32) and return float32 logits."""

    def _to_layout(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if self.input_layout == "NHWC" else x


def quantize_input(x: np.ndarray, spec: dict, dtype) -> np.ndarray:
    """float -> integer input using the manifest's scale/zero_point."""
    info = np.iinfo(dtype)
    q = np.round(x / spec["scale"]) + spec["zero_point"]
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize_output(y: np.ndarray, spec: dict) -> np.ndarray:
    return ((y.astype(np.float32) - spec["zero_point"]) * spec["scale"]).astype(np.float32)
