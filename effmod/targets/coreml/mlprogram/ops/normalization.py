"""Normalisation and reductions: layer/batch/instance/l2 norm, softmax, reduce_*."""
from __future__ import annotations


import torch

from .registry import KERNELS, axis_of as _axis, declare, ints, kernel, num, r16  # noqa: F401

# --------------------------------------------------------------------------- normalisation
def _norm_axes(x, axes) -> list[int]:
    return sorted(_axis(a, x.dim()) for a in ints(axes)) if axes is not None else list(range(x.dim()))


@kernel("layer_norm")
def layer_norm(ctx, x, axes=None, gamma=None, beta=None, epsilon=1e-5):
    dims = _norm_axes(x, axes)
    fp16 = ctx.fp16
    # mean accumulates in float32; the centred values and their squares are fp16 tensors on device
    mean = r16(x.mean(dim=dims, keepdim=True), fp16)
    d = r16(x - mean, fp16)
    # |x - mean| > 256 squares past fp16's 65504: var becomes inf and the output silently 0
    sq = ctx.check(r16(d * d, fp16), "(x - mean)^2")
    var = r16(sq.mean(dim=dims, keepdim=True), fp16)
    y = d * torch.rsqrt(var + num(epsilon))
    shape = [x.shape[i] if i in dims else 1 for i in range(x.dim())]
    if gamma is not None:
        y = r16(y, fp16) * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


@kernel("batch_norm")
def batch_norm(ctx, x, mean, variance, gamma=None, beta=None, epsilon=1e-5):
    shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
    y = (x - mean.reshape(shape)) * torch.rsqrt(variance.reshape(shape) + num(epsilon))
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


@kernel("instance_norm")
def instance_norm(ctx, x, gamma=None, beta=None, epsilon=1e-5):
    return layer_norm(ctx, x, list(range(2, x.dim())), None, None, epsilon) * (
        1 if gamma is None else gamma.reshape([1, -1] + [1] * (x.dim() - 2))) + (
        0 if beta is None else beta.reshape([1, -1] + [1] * (x.dim() - 2)))


@kernel("l2_norm")
def l2_norm(ctx, x, epsilon=1e-6):
    """The last three dims are normalised together, every leading dim is a batch: x / sqrt(Σx² + eps)."""
    dims = list(range(max(0, x.dim() - 3), x.dim()))
    return x / torch.sqrt((x * x).sum(dim=dims, keepdim=True) + num(epsilon))


@kernel("softmax")
def softmax(ctx, x, axis=-1):
    return torch.softmax(x, dim=int(num(axis)))


# --------------------------------------------------------------------------- reductions
def _reduce(fn):
    def run(ctx, x, axes=None, keep_dims=False):
        dims = _norm_axes(x, axes)
        return fn(x, dims, bool(num(keep_dims)))
    return run


_REDUCTIONS = {
    "reduce_mean": _reduce(lambda x, d, k: x.mean(dim=d, keepdim=k)),
    "reduce_sum": _reduce(lambda x, d, k: x.sum(dim=d, keepdim=k)),
    "reduce_prod": _reduce(lambda x, d, k: _prod(x, d, k)),
    "reduce_max": _reduce(lambda x, d, k: x.amax(dim=d, keepdim=k)),
    "reduce_min": _reduce(lambda x, d, k: x.amin(dim=d, keepdim=k)),
    "reduce_sum_square": _reduce(lambda x, d, k: (x * x).sum(dim=d, keepdim=k)),
    "reduce_l1_norm": _reduce(lambda x, d, k: x.abs().sum(dim=d, keepdim=k)),
    "reduce_l2_norm": _reduce(lambda x, d, k: torch.sqrt((x * x).sum(dim=d, keepdim=k))),
    "reduce_log_sum": _reduce(lambda x, d, k: torch.log(x.sum(dim=d, keepdim=k))),
    "reduce_log_sum_exp": _reduce(lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k)),
}
for _name, _fn in _REDUCTIONS.items():
    declare(_name, _fn)


def _prod(x, dims, keep):
    for d in sorted(dims, reverse=True):
        x = x.prod(dim=d, keepdim=keep)
    return x


@kernel("reduce_argmax", "reduce_argmin")
def reduce_arg(ctx, x, axis=-1, keep_dims=False, output_dtype="int32"):
    fn = torch.argmax if ctx.op.type == "reduce_argmax" else torch.argmin
    return fn(x, dim=int(num(axis)), keepdim=bool(num(keep_dims)))


