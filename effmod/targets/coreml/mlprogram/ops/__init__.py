"""MIL op kernels by category, declared in one registry (``registry.py``; docs/coreml-on-linux.md,
"Adding an op"). Importing this package registers every kernel."""
from . import elementwise, linear, normalization, quantization, tensor  # noqa: F401 - they register their ops
from .registry import IOS_OPSETS, KERNELS, SPECS, Ctx, OpSpec, declare, kernel

__all__ = ["IOS_OPSETS", "KERNELS", "SPECS", "Ctx", "OpSpec", "declare", "kernel"]
