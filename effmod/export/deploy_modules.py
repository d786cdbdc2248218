"""NCHW deploy-form building blocks of EfficientMod (what ``reparameterize`` produces).

Channels-first throughout: projections are 1×1 convolutions, norms reduce over dim 1, so the
graph needs no permutes except inside attention. Norm affines, BatchNorms and LayerScales are
already folded into the weights, and the context tiling is a broadcast multiply.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class ChannelNorm(nn.Module):
    """LayerNorm over the channel dim of an NCHW tensor. ``weight``/``bias`` stay only where the
    normalised tensor is the residual stream itself (patch embeddings), elsewhere they are folded.

    ``channel_mean="conv"`` averages channels with a constant 1×1 conv instead of ``mean(dim=1)``:
    ExecuTorch's XNNPACK partitioner rejects channel-dim means, which split xxs into 57 partitions.
    """

    def __init__(self, dim: int, eps: float, weight: torch.Tensor | None = None,
                 bias: torch.Tensor | None = None, channel_mean: str = "reduce"):
        super().__init__()
        self.eps = eps
        self.weight = None if weight is None else nn.Parameter(weight.detach().clone().view(1, -1, 1, 1))
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone().view(1, -1, 1, 1))
        self.channel_mean = channel_mean
        if channel_mean == "conv":
            self.register_buffer("avg", torch.full((1, dim, 1, 1), 1.0 / dim))

    def _mean(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.avg) if self.channel_mean == "conv" else x.mean(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xc = x - self._mean(x)
        x = xc * torch.rsqrt(self._mean(xc * xc) + self.eps)
        if self.weight is not None:
            x = x * self.weight
        if self.bias is not None:
            x = x + self.bias
        return x


class BandedDepthwiseConv(nn.Module):
    """A k×k depthwise conv computed exactly as a sum of row bands of at most ``max_taps`` taps.

    XNNPACK (as bundled with ExecuTorch 1.4) has fast depthwise kernels up to 25 taps; a 7×7
    (49 taps) falls off them and ran 17× slower than a 5×5 on these CPUs. Bands 3×7 + 3×7 + 1×7
    over shifted windows of the padded input give the same sums with fast kernels.
    """

    def __init__(self, conv: nn.Conv2d, max_taps: int = 25):
        super().__init__()
        kh, kw = conv.kernel_size
        rows = max(1, max_taps // kw)
        self.bands = [(r, min(rows, kh - r)) for r in range(0, kh, rows)]
        self.pad = (conv.padding[1], conv.padding[1], conv.padding[0], conv.padding[0])
        self.groups = conv.groups
        self.weights = nn.ParameterList(
            nn.Parameter(conv.weight.detach()[:, :, r:r + k, :].clone()) for r, k in self.bands)
        self.bias = nn.Parameter(conv.bias.detach().clone().view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        H = x.shape[2] + self.pad[2] + self.pad[3] - (self.bands[-1][0] + self.bands[-1][1]) + 1
        xp = F.pad(x, self.pad)
        y = self.bias
        for (r, k), w in zip(self.bands, self.weights):
            y = y + F.conv2d(xp[:, :, r:r + H + k - 1, :], w, groups=self.groups)
        return y


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
        inner, bh, hd = self.num_heads * self.head_dim, B * self.num_heads, self.head_dim
        qkv = self.qkv(self.norm1(x))
        # 3-D bmm and slices: 4-D matmul lowers to expand_copy and split to split_with_sizes,
        # neither of which ExecuTorch's XNNPACK partitioner takes.
        q = qkv[:, :inner].reshape(bh, hd, H * W)
        k = qkv[:, inner:2 * inner].reshape(bh, hd, H * W)
        v = qkv[:, 2 * inner:].reshape(bh, hd, H * W)
        attn = torch.bmm(q.transpose(1, 2), k).softmax(dim=-1)          # [B*heads, N, N]
        o = torch.bmm(v, attn.transpose(1, 2)).reshape(B, inner, H, W)  # [B, heads*hd, H, W]
        x = x + self.proj(o)
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


class DeployHead(nn.Module):
    def __init__(self, norm: nn.Module, fc: nn.Linear):
        super().__init__()
        self.norm = norm
        self.fc = fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # keepdim: XNNPACK delegates spatial means only in that form
        return self.fc(self.norm(x).mean(dim=(2, 3), keepdim=True).flatten(1))


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
