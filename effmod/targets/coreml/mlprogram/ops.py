"""Kernels for MIL operations (Core ML opsets iOS15–iOS18), written from the op definitions in
coremltools' ``mil/ops/defs``. Every kernel computes in float32 on float inputs; the executor rounds
each result to the dtype the program declares for it (float16 in fp16 programs), which is how the
device's fp16 arithmetic shows up here. Where an op's *internal* intermediates overflow in fp16 on a
device (squares inside a norm), the kernel rounds those intermediates too when ``ctx.fp16`` is set."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

KERNELS: dict[str, callable] = {}
# (op type, input name) pairs that take a list of tensors.
VARIADIC = {("concat", "values"), ("stack", "values"), ("einsum", "values")}


def kernel(*names):
    def deco(fn):
        for n in names:
            KERNELS[n] = fn
        return fn
    return deco


class Ctx:
    """Per-op context: ``fp16`` is True when the op's declared output is float16; ``ios`` is the
    program's deployment target (15 for iOS15/CoreML5, ...), for ops whose meaning changed."""

    __slots__ = ("op", "fp16", "overflows", "ios", "batch")

    def __init__(self, op, fp16: bool, ios: int = 17, batch: int = 1):
        self.op, self.fp16, self.ios = op, fp16, ios
        self.batch = batch  # k: this run holds k times the program's declared batch (see batching.py)
        self.overflows: list[str] = []  # fp16 intermediates that overflowed inside this op

    def check(self, t: torch.Tensor, what: str) -> torch.Tensor:
        if self.fp16 and not bool(torch.isfinite(t).all()):  # only inside norms: a few ops a run
            self.overflows.append(what)
        return t


def ints(v) -> list[int]:
    if isinstance(v, torch.Tensor):
        return [int(i) for i in v.reshape(-1).tolist()]
    return [int(i) for i in np.asarray(v).reshape(-1)]


def num(v):
    return v.item() if isinstance(v, torch.Tensor) else v


def r16(t: torch.Tensor, on: bool) -> torch.Tensor:
    """Round to float16 and back (inf past ±65504) when emulating fp16 intermediates."""
    return t.to(torch.float16).float() if on else t


def _axis(a: int, rank: int) -> int:
    return a + rank if a < 0 else a


# --------------------------------------------------------------------------- elementwise
_BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "maximum": torch.maximum, "minimum": torch.minimum,
    "pow": torch.pow, "equal": torch.eq, "not_equal": torch.ne, "less": torch.lt, "less_equal": torch.le,
    "greater": torch.gt, "greater_equal": torch.ge, "logical_and": torch.logical_and,
    "logical_or": torch.logical_or, "logical_xor": torch.logical_xor,
}


def _binary(fn):
    return lambda ctx, x, y: fn(x, y)


for _name, _fn in _BINARY.items():
    KERNELS[_name] = _binary(_fn)


@kernel("real_div")
def real_div(ctx, x, y):
    return torch.div(x.float() if not x.is_floating_point() else x, y)


@kernel("floor_div")
def floor_div(ctx, x, y):
    return torch.div(x, y, rounding_mode="floor")


@kernel("mod")
def mod(ctx, x, y):
    return torch.remainder(x, y)


_UNARY = {
    "abs": torch.abs, "ceil": torch.ceil, "floor": torch.floor, "round": torch.round, "sign": torch.sign,
    "sqrt": torch.sqrt, "exp": torch.exp, "exp2": torch.exp2, "sin": torch.sin, "cos": torch.cos,
    "tan": torch.tan, "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh, "asin": torch.asin,
    "acos": torch.acos, "atan": torch.atan, "atanh": torch.atanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "erf": torch.erf, "square": torch.square, "logical_not": torch.logical_not, "silu": F.silu,
    "identity": lambda x: x, "softsign": F.softsign,
}
for _name, _fn in _UNARY.items():
    KERNELS[_name] = (lambda f: lambda ctx, x: f(x))(_fn)


@kernel("rsqrt")
def rsqrt(ctx, x, epsilon=1e-12):
    return torch.rsqrt(x + num(epsilon))


@kernel("inverse")
def inverse(ctx, x, epsilon=1e-4):
    return 1.0 / (x + num(epsilon))


@kernel("log")
def log(ctx, x, epsilon=1e-45):
    return torch.log(x + num(epsilon))


@kernel("clip")
def clip(ctx, x, alpha, beta):
    return torch.clamp(x, num(alpha), num(beta))


@kernel("relu6")
def relu6(ctx, x):
    return torch.clamp(x, 0.0, 6.0)


@kernel("leaky_relu")
def leaky_relu(ctx, x, alpha=0.01):
    return F.leaky_relu(x, num(alpha))


@kernel("elu")
def elu(ctx, x, alpha=1.0):
    return F.elu(x, num(alpha))


@kernel("softplus")
def softplus(ctx, x):
    return F.softplus(x)


@kernel("sigmoid_hard")
def sigmoid_hard(ctx, x, alpha=0.2, beta=0.5):
    return torch.clamp(num(alpha) * x + num(beta), 0.0, 1.0)


@kernel("threshold")
def threshold(ctx, x, alpha=1.0):
    return torch.clamp(x, min=num(alpha))


@kernel("gelu")
def gelu(ctx, x, mode="EXACT"):
    if mode == "EXACT":
        return F.gelu(x)  # 0.5·x·(1 + erf(x/√2)), one fused kernel
    if mode == "TANH_APPROXIMATION":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if mode == "SIGMOID_APPROXIMATION":
        return x * torch.sigmoid(1.702 * x)
    raise ValueError(f"gelu mode '{mode}' is not defined by MIL")


@kernel("select")
def select(ctx, cond, a, b):
    return torch.where(cond.bool(), a, b)


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


KERNELS.update({
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
})


def _prod(x, dims, keep):
    for d in sorted(dims, reverse=True):
        x = x.prod(dim=d, keepdim=keep)
    return x


@kernel("reduce_argmax", "reduce_argmin")
def reduce_arg(ctx, x, axis=-1, keep_dims=False, output_dtype="int32"):
    fn = torch.argmax if ctx.op.type == "reduce_argmax" else torch.argmin
    return fn(x, dim=int(num(axis)), keepdim=bool(num(keep_dims)))


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


@kernel("concat")
def concat(ctx, values, axis, interleave=False):
    a = int(num(axis))
    if bool(num(interleave)):
        a = _axis(a, values[0].dim())
        stacked = torch.stack(values, dim=a + 1)
        return stacked.reshape(*values[0].shape[:a], -1, *values[0].shape[a + 1:])
    return torch.cat(values, dim=a)


@kernel("stack")
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


@kernel("quantize")
def quantize(ctx, input, scale, zero_point=None, axis=None, output_dtype="int8"):
    dt = CAST_DTYPES[output_dtype]
    info = torch.iinfo(dt)
    r = input.dim()
    q = torch.div(input, _along(scale.float(), axis, r)).round_()  # in place from here: q is ours
    if zero_point is not None:
        q.add_(_along(zero_point.float(), axis, r))
    return q.clamp_(info.min, info.max).to(dt)


@kernel("dequantize")
def dequantize(ctx, input, scale, zero_point=None, axis=None):
    r = input.dim()
    x = input.float() if input.dtype != torch.float32 else input.clone()  # in place from here: x is ours
    if zero_point is not None:
        x.sub_(_along(zero_point.float(), axis, r))
    return x.mul_(_along(scale.float(), axis, r))


@kernel("constexpr_affine_dequantize")
def constexpr_affine_dequantize(ctx, quantized_data, zero_point, scale, axis):
    return dequantize(ctx, quantized_data, scale, zero_point, axis)


@kernel("constexpr_cast")
def constexpr_cast(ctx, source_val, output_dtype):
    return source_val.to(CAST_DTYPES[output_dtype])


@kernel("constexpr_blockwise_shift_scale")
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
