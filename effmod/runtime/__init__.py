"""One runner per runtime, same interface: ``load(artifact)(nchw_float32) -> float32 logits``."""
from __future__ import annotations

from pathlib import Path

from ..errors import EffmodError
from .base import Runner, read_manifest

RUNNERS = {
    ".onnx": ("onnx", "OnnxRunner"),
    ".tflite": ("tflite", "TFLiteRunner"),
    ".pte": ("executorch", "ExecuTorchRunner"),
    ".mlpackage": ("coreml", "CoreMLRunner"),
}


def load(artifact_path: str | Path, threads: int | None = None, manifest: dict | None = None, **options) -> Runner:
    """Open an artifact in its real runtime. Layout and integer I/O come from its manifest; ``options``
    go to the runner (e.g. ``spinning=False`` for onnxruntime, ``engine=`` for Core ML)."""
    import importlib

    path = Path(artifact_path)
    if not path.exists():
        raise EffmodError(f"artifact not found: {path}")
    if path.suffix not in RUNNERS:
        raise EffmodError(f"unknown artifact type '{path.suffix}'", hint="expected " + ", ".join(RUNNERS))
    module, cls = RUNNERS[path.suffix]
    runner_cls = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return runner_cls(path, manifest if manifest is not None else read_manifest(path), threads=threads, **options)


__all__ = ["load", "Runner", "read_manifest"]
