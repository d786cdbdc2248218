"""Linear algebra and windows: linear, matmul, conv, pooling."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .registry import KERNELS, axis_of as _axis, declare, ints, kernel, num, r16  # noqa: F401

# --------------------------------------------------------------------------- linear algebra / conv
@kernel("linear")
def linear(ctx, x, weight, bias=None):
    return F.linear(x, weight.to(x.dtype), None if bias is None else bias.to(x.dtype))


@kernel("matmul")
def matmul(ctx, x, y, transpose_x=False, transpose_y=False):
    if x.dtype != y.dtype:
        # iOS17 allows one const operand of another dtype; compute in float, the executor rounds the
        # result to the dtype the program declares (the non-const operand's).
        x, y = x.double(), y.double()
    if bool(num(transpose_x)) and x.dim() >= 2:
        x = x.transpose(-1, -2)
    if bool(num(transpose_y)) and y.dim() >= 2:
        y = y.transpose(-1, -2)
    return torch.matmul(x, y)


def _same_pad(size: int, k: int, stride: int, dilation: int, lower: bool) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


def spatial_padding(x, kernel_sizes, strides, dilations, pad_type, pad) -> list[tuple[int, int]]:
    """(begin, end) per spatial dim, following MIL's pad_type rules."""
    n = len(kernel_sizes)
    if pad_type == "valid":
        return [(0, 0)] * n
    if pad_type == "custom":
        p = ints(pad)
        return [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    if pad_type in ("same", "same_lower"):
        sizes = x.shape[2:]
        return [_same_pad(sizes[i], kernel_sizes[i], strides[i], dilations[i], pad_type == "same_lower")
                for i in range(n)]
    raise ValueError(f"pad_type '{pad_type}' is not defined by MIL")


def _torch_pad(pads: list[tuple[int, int]]) -> list[int]:
    return [v for b, e in reversed(pads) for v in (b, e)]


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


@kernel("conv")
def conv(ctx, x, weight, bias=None, strides=None, pad_type="valid", pad=None, dilations=None, groups=1):
    n = x.dim() - 2
    strides = ints(strides) if strides is not None else [1] * n
    dilations = ints(dilations) if dilations is not None else [1] * n
    pads = spatial_padding(x, list(weight.shape[2:]), strides, dilations, pad_type, pad)
    if any(b or e for b, e in pads):
        x = F.pad(x, _torch_pad(pads))
    w = weight.to(x.dtype)
    return _CONV[n](x, w, None if bias is None else bias.to(x.dtype), strides, 0, dilations, int(num(groups)))


def _pool(ctx, x, kernel_sizes, strides, pad_type, pad, ceil_mode, kind, exclude_padding=False):
    n = x.dim() - 2
    ks = ints(kernel_sizes)
    st = ints(strides) if strides is not None else [1] * n
    pads = spatial_padding(x, ks, st, [1] * n, pad_type, pad)
    ceil_mode = bool(num(ceil_mode))
    tp = _torch_pad(pads)
    if kind == "max":
        xp = F.pad(x, tp, value=-math.inf) if any(tp) else x
        return getattr(F, f"max_pool{n}d")(xp, ks, st, 0, ceil_mode=ceil_mode)
    pool = getattr(F, f"avg_pool{n}d")
    if kind == "l2":
        xp = F.pad(x * x, tp) if any(tp) else x * x
        return torch.sqrt(pool(xp, ks, st, 0, ceil_mode=ceil_mode) * math.prod(ks))
    xp = F.pad(x, tp) if any(tp) else x
    out = pool(xp, ks, st, 0, ceil_mode=ceil_mode)
    if exclude_padding and any(tp):
        ones = F.pad(torch.ones_like(x[:1, :1]), tp)
        frac = pool(ones, ks, st, 0, ceil_mode=ceil_mode)
        out = out / frac
    return out


@kernel("avg_pool")
def avg_pool(ctx, x, kernel_sizes, strides=None, pad_type="valid", pad=None, exclude_padding_from_average=False,
             ceil_mode=False):
    return _pool(ctx, x, kernel_sizes, strides, pad_type, pad, ceil_mode, "avg", bool(num(exclude_padding_from_average)))


@kernel("max_pool")
def max_pool(ctx, x, kernel_sizes, strides=None, pad_type="valid", pad=None, ceil_mode=False):
    return _pool(ctx, x, kernel_sizes, strides, pad_type, pad, ceil_mode, "max")


@kernel("l2_pool")
def l2_pool(ctx, x, kernel_sizes, strides=None, pad_type="valid", pad=None, ceil_mode=False):
    return _pool(ctx, x, kernel_sizes, strides, pad_type, pad, ceil_mode, "l2")


