"""Elementwise MIL ops: binary arithmetic and comparisons, unary math, activations, select."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .registry import KERNELS, axis_of as _axis, declare, ints, kernel, num, r16  # noqa: F401

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
    declare(_name, _binary(_fn))


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
    declare(_name, (lambda f: lambda ctx, x: f(x))(_fn))


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


