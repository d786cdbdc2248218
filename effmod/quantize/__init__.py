"""Target-independent pieces of INT8 post-training quantization (each target's recipe lives in
``effmod/targets/<name>/quantize.py``):

- ``calibration``: calibration images (folder, balanced sampling, hash for the manifest);
- ``pt2e``: PT2E prepare → calibrate → convert (the fake-quantized PyTorch model is the parity reference);
- ``keep_float``: ``--keep-float`` patterns (kinds like ``attention``/``norm``/``dw``/``head`` or module globs);
- ``sensitivity``: per-block INT8 sensitivity and auto-fallback.
"""
from .calibration import CalibrationSet, load_calibration
from .keep_float import KINDS, resolve_keep_float

__all__ = ["CalibrationSet", "load_calibration", "resolve_keep_float", "KINDS"]
