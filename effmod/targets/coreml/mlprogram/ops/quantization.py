"""dtypes and quantisation: cast, quantize/dequantize (iOS17), constexpr decompression (iOS16/18)."""
from __future__ import annotations


import torch

from .registry import KERNELS, axis_of as _axis, declare, ints, kernel, num, r16  # noqa: F401

# --------------------------------------------------------------------------- dtypes, quantisation
CAST_DTYPES = {"fp16": torch.float16, "fp32": torch.float32, "fp64": torch.float64, "int8": torch.int8,
               "uint8": torch.uint8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
               "bool": torch.bool}


@kernel("cast")
def cast(ctx, x, dtype):
    if dtype == "uint16":
        # torch has no general uint16 arithmetic; the executor keeps uint16 tensors as int32 values
        # 0..65535. Floats truncate toward zero, as a C cast does, then wrap modulo 2^16.
        return torch.remainder(x.to(torch.int64), 1 << 16).to(torch.int32)
    return x.to(CAST_DTYPES[dtype])


def _along(v, axis, rank):
    """Per-tensor scalars stay; a 1-D per-channel vector is laid along ``axis``."""
    if v is None or v.dim() == 0 or v.numel() == 1 and axis is None:
        return v
    if v.dim() == 1 and axis is not None:
        shape = [1] * rank
        shape[_axis(int(num(axis)), rank)] = v.numel()
        return v.reshape(shape)
    return v


@kernel("quantize", since=17)
def quantize(ctx, input, scale, zero_point=None, axis=None, output_dtype="int8"):
    dt = CAST_DTYPES[output_dtype]
    info = torch.iinfo(dt)
    r = input.dim()
    q = torch.div(input, _along(scale.float(), axis, r)).round_()  # in place from here: q is ours
    if zero_point is not None:
        q.add_(_along(zero_point.float(), axis, r))
    return q.clamp_(info.min, info.max).to(dt)


@kernel("dequantize", since=17)
def dequantize(ctx, input, scale, zero_point=None, axis=None):
    r = input.dim()
    x = input.float() if input.dtype != torch.float32 else input.clone()  # in place from here: x is ours
    if zero_point is not None:
        x.sub_(_along(zero_point.float(), axis, r))
    return x.mul_(_along(scale.float(), axis, r))


@kernel("constexpr_affine_dequantize", since=16)
def constexpr_affine_dequantize(ctx, quantized_data, zero_point, scale, axis):
    return dequantize(ctx, quantized_data, scale, zero_point, axis)


@kernel("constexpr_cast", since=16)
def constexpr_cast(ctx, source_val, output_dtype):
    return source_val.to(CAST_DTYPES[output_dtype])


@kernel("constexpr_blockwise_shift_scale", since=18)
def constexpr_blockwise_shift_scale(ctx, data, scale, offset=None):
    x = data.float()
    def expand(v):
        for d in range(x.dim()):
            if v.shape[d] != x.shape[d]:
                v = v.repeat_interleave(x.shape[d] // v.shape[d], dim=d)
        return v
    if offset is not None:
        x = x - expand(offset.float())
    return x * expand(scale.float())
