"""``--keep-float``: which parts of the deploy form stay in floating point under INT8.

A pattern is a kind (below) or an fnmatch glob over module names of the deploy form, e.g.
``stages.3.*`` or ``head``. Unknown patterns are an error, never silently ignored."""
from __future__ import annotations

import fnmatch

import torch.nn as nn

from ..errors import EffmodError
from ..deploy.modules import ChannelNorm, DeployAttentionBlock, DeployHead, SplitDepthwiseConv

KINDS: dict[str, str] = {
    "attention": "the attention blocks (stages 3-4 of xxs/xs/s): q/k/v, softmax, bmm, proj and their MLP",
    "norm": "the channel LayerNorms (mean/sub/rsqrt): ranges are input dependent",
    "dw": "the 7×7 depthwise convs: XNNPACK's INT8 7×7 depthwise is slower than fp32",
    "head": "the classifier head (pooling + final linear)",
}


def _is_kind(kind: str, module: nn.Module) -> bool:
    if kind == "attention":
        return isinstance(module, DeployAttentionBlock)
    if kind == "norm":
        return isinstance(module, ChannelNorm)
    if kind == "dw":
        return isinstance(module, SplitDepthwiseConv) or (
            isinstance(module, nn.Conv2d) and module.groups > 1 and module.groups == module.in_channels)
    if kind == "head":
        return isinstance(module, DeployHead)
    return False


def merge_patterns(defaults, extra) -> tuple[str, ...]:
    """A target's default float islands followed by the user's, without repeats."""
    return tuple(dict.fromkeys(tuple(defaults) + tuple(extra)))


def resolve_keep_float(model: nn.Module, patterns: list[str] | tuple[str, ...]) -> list[str]:
    """Module names (of ``model``) to keep in float; outermost matches only."""
    names: list[str] = []
    for pattern in patterns:
        if pattern in KINDS:
            hits = [n for n, m in model.named_modules() if n and _is_kind(pattern, m)]
        else:
            hits = [n for n, _ in model.named_modules() if n and fnmatch.fnmatchcase(n, pattern)]
            if not hits:
                raise EffmodError(f"--keep-float '{pattern}' matches no module",
                                  hint="use a kind (" + ", ".join(KINDS) + ") or a module-name glob like 'stages.3.*'")
        names.extend(hits)
    names = sorted(set(names))
    return [n for n in names if not any(n.startswith(o + ".") for o in names if o != n)]
