"""ExecuTorch INT8: PT2E with XNNPACK's quantizer (per-channel symmetric weights), lowered with the
XNNPACK partitioner. Default float islands, measured on xxs at 224 (2 threads): quantizing the banded
7×7 depthwise convs made the .pte fail to load (XNNPACK rejects a quantized slice whose scales differ)
and INT8 7×7 depthwise is slower than fp32 anyway; the channel norms cost accuracy for no speed.
Keeping both float: 10.5 -> 7.3 ms (1.44×) at 32 dB SQNR vs fp32."""
from __future__ import annotations

DEFAULT_KEEP_FLOAT = ("dw", "norm")
