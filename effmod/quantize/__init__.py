"""INT8 post-training quantization per target.

- ``calibration``: calibration images (folder, balanced sampling, hash for the manifest);
- ``pt2e``: PT2E prepare → calibrate → convert (the fake-quantized PyTorch model is the parity reference);
- ``keep_float``: ``--keep-float`` patterns (kinds like ``attention``/``norm``/``dw``/``head`` or module globs);
- one module per target recipe: ``executorch``, ``tflite``, ``coreml``, ``onnx``.
"""
from .calibration import CalibrationSet, load_calibration
from .keep_float import KINDS, resolve_keep_float

QUANT_PRECISIONS = ("int8", "int8-weights")

__all__ = ["CalibrationSet", "load_calibration", "resolve_keep_float", "KINDS", "QUANT_PRECISIONS"]
