"""Pinned dependency versions, and what is installed (for `effmod doctor` and manifests)."""
from __future__ import annotations

import platform
from importlib import metadata

# package -> required version prefix ("2.3" admits 2.3.x); keep in sync with pyproject.toml.
PINS: dict[str, str] = {
    "torch": "2.13.0",
    "torchao": "0.18.0",
    "executorch": "1.4.1",
    "coremltools": "9.0",
    "litert-torch": "0.10.0",
    "ai-edge-litert": "2.3",
    "ai-edge-quantizer": "0.10.0",
    "onnx": "1.23.2",
    "onnxruntime": "1.32.0",
    "onnxscript": "0.7.2",
}


def installed(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def pin_ok(package: str, version: str | None) -> bool:
    if version is None:
        return False
    want = PINS[package]
    base = version.split("+")[0]
    return base == want or base.startswith(want + ".")


def effmod_version() -> str:
    from . import __version__

    return __version__


def coreml_predict_available() -> bool:
    """Core ML prediction needs macOS (coremltools' native framework bindings)."""
    return platform.system() == "Darwin"
