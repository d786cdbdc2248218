"""Core ML INT8.

- ``int8`` (W8A8): PT2E fake-quantized deploy form → ``run_decompositions({})`` → ``ct.convert``,
  which turns the q/dq pairs into MIL ``quantize``/``dequantize`` and the weights into
  ``constexpr_affine_dequantize``. Annotation uses XNNPACK's symmetric INT8 rules, because coremltools
  9.0's ``CoreMLQuantizer`` imports ``torch.ao.quantization.quantizer``, which torch 2.13 no longer
  has (measured: ModuleNotFoundError).
- ``int8-weights``: ``coremltools.optimize.coreml.linear_quantize_weights`` (per-channel symmetric)
  on the fp16 program. Activations stay fp16.
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn

# The norm's (var + eps) is an `add` the INT8 annotation quantizes: small variances round to 0 and
# rsqrt gives inf in fp16 (found by the executor's non-finite check on xxs). Norms stay fp16.
DEFAULT_KEEP_FLOAT = ("norm",)


# linear_quantize_weights' defaults: tensors of more than 2048 elements and rank > 1, per output channel,
# symmetric int8 in [-127, 127] with scale = max|w| / 127 (coremltools.optimize._utils)
WEIGHT_THRESHOLD = 2048


def fake_quantize_weights(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose weights are quantized and dequantized as ``quantize_weights`` does it to
    the fp16 program: int8-weights parity's simulated reference, computed in PyTorch from the original
    weights (never read from the artifact)."""
    fake = copy.deepcopy(model).eval()
    with torch.no_grad():
        for p in fake.parameters():
            if p.dim() > 1 and p.numel() > WEIGHT_THRESHOLD:
                w = p.to(torch.float16).float()  # the program holds fp16 weights before they are quantized
                scale = w.abs().amax(dim=tuple(range(1, w.dim())), keepdim=True) / 127
                scale = torch.where(scale == 0, torch.ones_like(scale), scale)
                p.copy_(torch.clamp(torch.round(w / scale), -127, 127) * scale)
    return fake


def quantize_weights(mlmodel):
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric"))
    return cto.linear_quantize_weights(mlmodel, config)
