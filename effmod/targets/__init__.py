"""The four targets, one record each. Each ``targets/<name>/`` folder has the same shape:

    convert.py   convert(job: ExportJob, out_path: Path) -> TargetResult   (writes the artifact)
    quantize.py  the target's INT8 recipe
    runner.py    the Runner that opens an artifact in its real runtime (never imports convert.py)
    __init__.py  the Target record tying them together

Adding a target: a new folder of that shape and one line in ``TARGETS`` below (docs/layout.md)."""
from __future__ import annotations

from pathlib import Path

from ..errors import EffmodError, wrapped
from ..manifest import TensorSpec
from .base import Arm64Support, DebugSupport, ExportJob, OpRow, Runner, Target, TargetResult
from .coreml import COREML
from .executorch import EXECUTORCH
from .onnx import ONNX
from .tflite import TFLITE

TARGETS: tuple[Target, ...] = (COREML, TFLITE, EXECUTORCH, ONNX)
TARGET_NAMES: tuple[str, ...] = tuple(t.name for t in TARGETS)


def by_name(name: str) -> Target:
    for t in TARGETS:
        if t.name == name:
            return t
    raise EffmodError(f"unknown target {name}", hint="choose from " + ", ".join(TARGET_NAMES + ("all",)))


def for_artifact(path: str | Path) -> Target:
    """The target that wrote an artifact, from its suffix."""
    suffix = Path(path).suffix
    for t in TARGETS:
        if t.suffix == suffix:
            return t
    raise EffmodError(f"unknown artifact type '{suffix}'", hint="expected " + ", ".join(t.suffix for t in TARGETS))


def load_runner(path: str | Path, threads: int | None = None, input_spec: TensorSpec | None = None,
                **options) -> Runner:
    """Open an artifact in its real runtime. Layout and image input come from ``input_spec`` (default:
    the manifest beside it); ``options`` go to the runner (``spinning=False`` for onnxruntime,
    ``engine=`` for Core ML)."""
    path = Path(path)
    if not path.exists():
        raise EffmodError(f"artifact not found: {path}")
    target = for_artifact(path)
    try:
        return target.runner(path, input_spec, threads=threads, **options)
    except EffmodError:
        raise
    except Exception as e:  # noqa: BLE001 - a runtime refusing a file is that file's problem
        raise wrapped(e, f"{path} is truncated or not {target.artifact_kind}",
                      hint="re-export it with effmod export") from None


__all__ = ["TARGETS", "TARGET_NAMES", "COREML", "TFLITE", "EXECUTORCH", "ONNX", "Target", "ExportJob", "TargetResult",
           "Runner", "Arm64Support", "DebugSupport", "OpRow", "by_name",
           "for_artifact", "load_runner"]
