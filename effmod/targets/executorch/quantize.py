"""ExecuTorch INT8: PT2E with XNNPACK's quantizer (per-channel symmetric weights), lowered with the
XNNPACK partitioner. Default float islands, measured on xxs at 224 (2 threads): INT8 depthwise is slower than fp32
in XNNPACK (7×7 direct 6.1 vs 5.0 ms at 64×56²; the dilated ≤25-tap split, whole model: 6.42 vs 5.73 ms with
the dw kept float; with the older row bands the quantized slices even made the .pte fail to load), and the
channel norms cost accuracy for no speed. Keeping both float: 10.5 -> 7.3 ms (1.44×) at 32 dB SQNR vs fp32."""
from __future__ import annotations

DEFAULT_KEEP_FLOAT = ("dw", "norm")
