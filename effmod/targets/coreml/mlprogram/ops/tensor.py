"""Shape and data movement: reshape, transpose, slices, concat/stack/split, pad, gather, upsample."""
from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from .registry import KERNELS, axis_of as _axis, declare, ints, kernel, num, r16  # noqa: F401

# --------------------------------------------------------------------------- shape / data movement
@kernel("reshape")
def reshape(ctx, x, shape):
    s = ints(shape)
    if ctx.batch > 1 and s and s[0] > 0:
        s[0] *= ctx.batch  # the batch is dim 0's outermost factor (batching.py proved it for this program)
    if ctx.ios >= 17:
        # iOS17: a 0 copies the input dim counted from the right, or is 1 where the input has none
        s = [(x.shape[len(x.shape) - (len(s) - i)] if len(s) - i <= x.dim() else 1) if v == 0 else v
             for i, v in enumerate(s)]
    else:
        # iOS15/16: a 0 copies the input dim at the same position (shape has the input's rank)
        s = [x.shape[i] if v == 0 else v for i, v in enumerate(s)]
    return x.reshape(s)


@kernel("transpose")
def transpose(ctx, x, perm):
    return x.permute(ints(perm))


@kernel("squeeze")
def squeeze(ctx, x, axes=None):
    if axes is None:
        return x.squeeze()
    dims = sorted((_axis(a, x.dim()) for a in ints(axes)), reverse=True)
    for d in dims:
        x = x.squeeze(d)
    return x


@kernel("expand_dims")
def expand_dims(ctx, x, axes):
    out_rank = x.dim() + len(ints(axes))
    for a in sorted(_axis(a, out_rank) for a in ints(axes)):
        x = x.unsqueeze(a)
    return x


@kernel("tile")
def tile(ctx, x, reps):
    return x.repeat(ints(reps))


@kernel("slice_by_index")
def slice_by_index(ctx, x, begin, end, stride=None, begin_mask=None, end_mask=None, squeeze_mask=None):
    r = x.dim()
    b, e = ints(begin), ints(end)
    s = ints(stride) if stride is not None else [1] * r
    bm = ints(begin_mask) if begin_mask is not None else [0] * r
    em = ints(end_mask) if end_mask is not None else [0] * r
    sm = ints(squeeze_mask) if squeeze_mask is not None else [0] * r
    for i in range(r):
        if sm[i]:
            # squeezed axes take the element at begin
            x = x.narrow(i, b[i] + x.shape[i] if b[i] < 0 else b[i], 1)
            continue
        # numpy slice semantics (negative begin/end count from the end, negative strides walk back);
        # torch has no negative-step slices, so pick the indices explicitly
        picked = range(*slice(None if bm[i] else b[i], None if em[i] else e[i], s[i]).indices(x.shape[i]))
        x = torch.index_select(x, i, torch.tensor(list(picked), dtype=torch.long))
    for i in sorted((i for i in range(r) if sm[i]), reverse=True):
        x = x.squeeze(i)
    return x


@kernel("slice_by_size")
def slice_by_size(ctx, x, begin, size):
    idx = tuple(slice(b, None if s == -1 else b + s) for b, s in zip(ints(begin), ints(size)))
    return x[idx]


@kernel("concat", variadic=("values",))
def concat(ctx, values, axis, interleave=False):
    a = int(num(axis))
    if bool(num(interleave)):
        a = _axis(a, values[0].dim())
        stacked = torch.stack(values, dim=a + 1)
        return stacked.reshape(*values[0].shape[:a], -1, *values[0].shape[a + 1:])
    return torch.cat(values, dim=a)


@kernel("stack", variadic=("values",))
def stack(ctx, values, axis):
    return torch.stack(values, dim=int(num(axis)))


@kernel("split")
def split(ctx, x, axis, num_splits=None, split_sizes=None):
    a = int(num(axis))
    if split_sizes is not None:
        return tuple(torch.split(x, ints(split_sizes), dim=a))
    return tuple(torch.chunk(x, int(num(num_splits)), dim=a))


@kernel("pad")
def pad(ctx, x, pad, mode="constant", constant_val=0.0):
    p = ints(pad)
    n = len(p) // 2
    widths = [(0, 0)] * (x.dim() - n) + [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[mode]
    kwargs = {"constant_values": num(constant_val)} if mode == "constant" else {}
    return torch.from_numpy(np.pad(x.numpy(), widths, mode=np_mode, **kwargs))


@kernel("shape")
def shape(ctx, x):
    return torch.tensor(list(x.shape), dtype=torch.int32)


@kernel("fill")
def fill(ctx, shape, value=0.0):
    return torch.full(ints(shape), num(value))


def _gather(x, idx, a):
    idx = torch.where(idx < 0, idx + x.shape[a], idx)
    out = torch.index_select(x, a, idx.reshape(-1))
    return out.reshape(*x.shape[:a], *idx.shape, *x.shape[a + 1:])


@kernel("gather")
def gather(ctx, x, indices, axis=0, batch_dims=0, validate_indices=False):
    """iOS16+: the first ``batch_dims`` dims of x and indices are batch (tf.gather): each batch
    entry gathers from its own slice; the output is D[:axis] + N[batch_dims:] + D[axis+1:]."""
    a = _axis(int(num(axis)), x.dim())
    b = int(num(batch_dims))
    idx = indices.long()
    if not b:
        return _gather(x, idx, a)
    batch = x.shape[:b]
    xs = x.reshape(-1, *x.shape[b:])
    ids = idx.reshape(-1, *idx.shape[b:])
    out = torch.stack([_gather(xi, ii, a - b) for xi, ii in zip(xs, ids)])
    return out.reshape(*batch, *out.shape[1:])


@kernel("gather_along_axis")
def gather_along_axis(ctx, x, indices, axis=0, validate_indices=False):
    a = _axis(int(num(axis)), x.dim())
    idx = indices.long()
    return torch.gather(x, a, torch.where(idx < 0, idx + x.shape[a], idx))


@kernel("upsample_nearest_neighbor")
def upsample_nearest_neighbor(ctx, x, scale_factor_height=1, scale_factor_width=1):
    return F.interpolate(x, scale_factor=(float(num(scale_factor_height)), float(num(scale_factor_width))), mode="nearest")


