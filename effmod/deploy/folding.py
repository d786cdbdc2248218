"""Pure-math helpers that fold affine ops (norm affines, BatchNorm, LayerScale) into projections.

Every function returns new tensors; nothing is modified in place.
"""
from __future__ import annotations

import copy

import torch
import torch.fx as fx
import torch.nn as nn


def bn_affine(bn: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as y = s * x + t."""
    w = bn.weight if bn.affine else torch.ones_like(bn.running_mean)
    b = bn.bias if bn.affine else torch.zeros_like(bn.running_mean)
    s = w / torch.sqrt(bn.running_var + bn.eps)
    return s.detach(), (b - bn.running_mean * s).detach()


def norm_affine(norm: nn.Module) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The per-channel affine a norm applies after normalising (LayerNorm) or in total (BatchNorm)."""
    if isinstance(norm, nn.LayerNorm):
        return (None if norm.weight is None else norm.weight.detach(),
                None if norm.bias is None else norm.bias.detach())
    if isinstance(norm, nn.modules.batchnorm._BatchNorm):
        return bn_affine(norm)
    raise TypeError(f"cannot take the affine of {type(norm).__name__}")


def fold_input_affine(weight: torch.Tensor, bias: torch.Tensor | None,
                      scale: torch.Tensor | None, shift: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """W(scale*x + shift) + b  ->  W' x + b'  for a Linear weight [out, in]."""
    w = weight.detach().clone()
    b = torch.zeros(w.shape[0], dtype=w.dtype) if bias is None else bias.detach().clone()
    if shift is not None:
        b = b + w @ shift
    if scale is not None:
        w = w * scale[None, :]
    return w, b


def fold_output_scale(weight: torch.Tensor, bias: torch.Tensor | None,
                      scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """scale * (W x + b) -> W' x + b'  (LayerScale after a projection); weight [out, ...]."""
    shape = (-1,) + (1,) * (weight.dim() - 1)
    return weight.detach() * scale.view(shape), None if bias is None else bias.detach() * scale


def fold_bn_into_conv(weight: torch.Tensor, bias: torch.Tensor | None,
                      bn: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """BN(conv(x)) -> conv'(x); works for conv weights [out, in/g, k, k] and linear weights [out, in]."""
    s, t = bn_affine(bn)
    w, b = fold_output_scale(weight, bias, s)
    return w, (t if b is None else b + t)


def linear_as_conv1x1(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Conv2d:
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], 1, bias=bias is not None)
    with torch.no_grad():
        conv.weight.copy_(weight.reshape(*weight.shape, 1, 1))
        if bias is not None:
            conv.bias.copy_(bias)
    return conv


def tile_output_channels(conv: nn.Conv2d, times: int) -> nn.Conv2d:
    """A 1×1 conv whose output is ``conv``'s repeated ``times`` along channels, i.e. ``out.repeat(1, times, 1, 1)``."""
    bias = None if conv.bias is None else conv.bias.detach().repeat(times)
    return linear_as_conv1x1(conv.weight.detach().flatten(1).repeat(times, 1), bias)


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """Return a copy of any torch model with every BatchNorm that directly follows a Conv or Linear
    (and is that layer's only user) folded into it. Other BatchNorms are kept. Uses torch.fx, so the
    model must be symbolically traceable; the input module is left untouched."""
    gm = fx.symbolic_trace(copy.deepcopy(module).eval())
    modules = dict(gm.named_modules())
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or not isinstance(modules[node.target], nn.modules.batchnorm._BatchNorm):
            continue
        prev = node.args[0]
        if not (isinstance(prev, fx.Node) and prev.op == "call_module" and len(prev.users) == 1):
            continue
        layer = modules[prev.target]
        if not isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            continue
        bn = modules[node.target]
        if bn.running_mean is None:
            continue
        w, b = fold_bn_into_conv(layer.weight, layer.bias, bn)
        layer.weight = nn.Parameter(w)
        layer.bias = nn.Parameter(b)
        node.replace_all_uses_with(prev)
        gm.graph.erase_node(node)
    gm.graph.eliminate_dead_code()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return gm
