"""NCHW deploy-form building blocks of EfficientMod (what ``reparameterize`` produces).

Channels-first throughout: projections are 1×1 convolutions, norms reduce over dim 1, so the
graph needs no permutes except inside attention. Norm affines, BatchNorms and LayerScales are
already folded into the weights, and the context tiling is a broadcast multiply.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class ChannelNorm(nn.Module):
    """LayerNorm over the channel dim of an NCHW tensor. ``weight``/``bias`` stay only where the
    normalised tensor is the residual stream itself (patch embeddings), elsewhere they are folded."""

    def __init__(self, eps: float, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None):
        super().__init__()
        self.eps = eps
        self.weight = None if weight is None else nn.Parameter(weight.detach().clone().view(1, -1, 1, 1))
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone().view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xc = x - x.mean(dim=1, keepdim=True)
        x = xc * torch.rsqrt((xc * xc).mean(dim=1, keepdim=True) + self.eps)
        if self.weight is not None:
            x = x * self.weight
        if self.bias is not None:
            x = x + self.bias
        return x


class DeployPatchEmbed(nn.Module):
    def __init__(self, proj: nn.Conv2d, norm: nn.Module):
        super().__init__()
        self.proj = proj
        self.norm = norm   # ChannelNorm with affine, or Identity when a BatchNorm was folded into proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x))


class DeployModulationBlock(nn.Module):
    """x + fc2(act?(fc1(n)) * ctx), ctx = g(GELU(dw(f(n)))), broadcast over ``group`` channel groups."""

    def __init__(self, norm: nn.Module, f: nn.Conv2d, dws: nn.ModuleList, g: nn.Conv2d,
                 fc1: nn.Conv2d, fc2: nn.Conv2d, group: int, expand: bool):
        super().__init__()
        self.norm = norm
        self.f, self.dws, self.g = f, dws, g
        self.fc1, self.fc2 = fc1, fc2
        self.act = nn.GELU()
        self.group = group
        self.expand = expand

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.norm(x)
        c = self.f(n)
        ctx = self.g(sum(self.act(dw(c)) for dw in self.dws))
        h = self.fc1(n)
        if self.expand:
            h = self.act(h)
            if self.group > 1:
                # Official: h * ctx.repeat(group) along channels. Here channel j*D + d of h meets
                # channel d of ctx through a 4-D broadcast, so no tiled copy is materialised.
                B, C, H, W = h.shape
                D = C // self.group
                h = (h.reshape(B, self.group, D, H * W) * ctx.reshape(B, 1, D, H * W)).reshape(B, C, H, W)
            else:
                h = h * ctx
        else:
            h = h * ctx
        return x + self.fc2(h)


class DeployAttentionBlock(nn.Module):
    """Pre-norm attention + MLP on NCHW maps. The softmax scale lives in the q rows of ``qkv``."""

    def __init__(self, norm1: nn.Module, qkv: nn.Conv2d, proj: nn.Conv2d, norm2: nn.Module,
                 fc1: nn.Conv2d, fc2: nn.Conv2d, num_heads: int, head_dim: int):
        super().__init__()
        self.norm1, self.qkv, self.proj = norm1, qkv, proj
        self.norm2, self.fc1, self.fc2 = norm2, fc1, fc2
        self.act = nn.GELU()
        self.num_heads, self.head_dim = num_heads, head_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        inner = self.num_heads * self.head_dim
        q, k, v = self.qkv(self.norm1(x)).split(inner, dim=1)
        q = q.reshape(B, self.num_heads, self.head_dim, H * W)
        k = k.reshape(B, self.num_heads, self.head_dim, H * W)
        v = v.reshape(B, self.num_heads, self.head_dim, H * W)
        attn = (q.transpose(-2, -1) @ k).softmax(dim=-1)            # [B, heads, N, N]
        o = (v @ attn.transpose(-2, -1)).reshape(B, inner, H, W)     # [B, heads*hd, H, W]
        x = x + self.proj(o)
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


class DeployHead(nn.Module):
    def __init__(self, norm: nn.Module, fc: nn.Linear):
        super().__init__()
        self.norm = norm
        self.fc = fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(x).mean(dim=(2, 3)))


class DeployEfficientMod(nn.Module):
    """NCHW float input [B, 3, H, W] -> logits [B, num_classes]."""

    def __init__(self, stem: nn.Module, stages: nn.ModuleList, head: DeployHead):
        super().__init__()
        self.stem = stem
        self.stages = stages
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(x)
