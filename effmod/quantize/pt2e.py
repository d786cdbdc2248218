"""PT2E post-training quantization: export → prepare (observers) → calibrate → convert.
The converted module is the fake-quantized PyTorch model: same INT8 rounding in float arithmetic,
which the parity step compares the runtime's real INT8 execution with."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn


def xnnpack_quantizer(model: nn.Module, keep_float_names: list[str]):
    """XNNPACK's symmetric INT8 scheme: per-channel weights, per-tensor activations; the named
    modules are left unannotated, so they stay float."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (XNNPACKQuantizer,
                                                                          get_symmetric_quantization_config)

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    for name in keep_float_names:
        # set_module_name() asserts on None, but the annotator treats a None entry as "leave
        # unannotated" and keeps the global config off that module: exactly keep-float.
        quantizer.module_name_config[name] = None
    return quantizer


def fake_quantize(model: nn.Module, example: torch.Tensor, calib: np.ndarray, quantizer, progress=None) -> nn.Module:
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    with torch.no_grad():
        prepared = prepare_pt2e(torch.export.export(model, (example,)).module(), quantizer)
        for i in range(len(calib)):
            prepared(torch.from_numpy(calib[i:i + 1]))
            if progress is not None:
                progress(i + 1, len(calib))
    return convert_pt2e(prepared)


def pt2e_int8(model: nn.Module, example: torch.Tensor, calib: np.ndarray, default_keep, extra_keep) -> tuple[nn.Module, dict]:
    """The fake-quantized model with the target's default float islands plus the user's, and the
    manifest facts about what stayed float."""
    from .keep_float import merge_patterns, resolve_keep_float

    patterns = merge_patterns(default_keep, extra_keep)
    kept = resolve_keep_float(model, patterns)
    fake = fake_quantize(model, example, calib, xnnpack_quantizer(model, kept))
    return fake, {"keep_float": list(patterns), "kept_float_modules": len(kept)}


def run_module(module: nn.Module, x: np.ndarray) -> np.ndarray:
    """Batch-1 loop (the quantized graph is exported for batch 1)."""
    with torch.no_grad():
        return torch.cat([module(torch.from_numpy(x[i:i + 1])) for i in range(len(x))]).numpy()
