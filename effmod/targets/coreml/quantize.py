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

# The norm's (var + eps) is an `add` the INT8 annotation quantizes: small variances round to 0 and
# rsqrt gives inf in fp16 (found by the executor's non-finite check on xxs). Norms stay fp16.
DEFAULT_KEEP_FLOAT = ("norm",)


def quantize_weights(mlmodel):
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric"))
    return cto.linear_quantize_weights(mlmodel, config)
