"""One module per target, each with the same shape:

    NAME, SUFFIX, PRECISIONS
    convert(job: ExportJob, out_path: Path) -> TargetResult

``convert`` writes the artifact at ``out_path`` (inside a temp dir) and reports what it made.
"""
from __future__ import annotations

import importlib
from types import ModuleType

TARGETS = ("coreml", "tflite", "executorch", "onnx")


def get_target(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{'onnx_target' if name == 'onnx' else name}")
