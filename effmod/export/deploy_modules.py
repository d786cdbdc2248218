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
    (49 taps) falls off them and ran 17× slower than a 5×5 on these CPUs. Bands of 3×7 + 3×7 + 1×7,
    with their outputs shifted into place, give the same sums using the fast kernels.
    """

    def __init__(self, conv: nn.Conv2d, max_taps: int = 25):
        super().__init__()
        if conv.stride != (1, 1) or conv.dilation != (1, 1):
            raise ValueError("BandedDepthwiseConv needs stride 1 and dilation 1")
        kh, kw = conv.kernel_size
        rows = max(1, max_taps // kw)
        self.bands = [(r, min(rows, kh - r)) for r in range(0, kh, rows)]
        self.padding = conv.padding
        self.kh = kh
        self.groups = conv.groups
        self.weights = nn.ParameterList(
            nn.Parameter(conv.weight.detach()[:, :, r:r + k, :].clone()) for r, k in self.bands)
        self.bias = nn.Parameter(conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Each band convolves with the conv's own symmetric padding, and its output rows are shifted
        # by the band's offset with a slice. There is no separate pad op: XNNPACK refuses a
        # quantized pad whose output scale differs from its input's.
        out_h = x.shape[2] + 2 * self.padding[0] - self.kh + 1
        y = None
        for i, ((r, _), w) in enumerate(zip(self.bands, self.weights)):
            band = F.conv2d(x, w, self.bias if i == 0 else None, padding=self.padding, groups=self.groups)
            band = band[:, :, r:r + out_h]
            y = band if y is None else y + band
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


def _conv_rows(conv: nn.Conv2d, start: int, count: int) -> nn.Conv2d:
    """A 1×1 conv computing output channels [start, start + count) of ``conv``."""
    out = nn.Conv2d(conv.in_channels, count, 1, bias=conv.bias is not None)
    with torch.no_grad():
        out.weight.copy_(conv.weight[start:start + count])
        if conv.bias is not None:
            out.bias.copy_(conv.bias[start:start + count])
    return out


class DeployAttentionBlock(nn.Module):
    """Pre-norm attention + MLP on NCHW maps. The softmax scale lives in the q rows of ``qkv``."""

    def __init__(self, norm1: nn.Module, qkv: nn.Conv2d, proj: nn.Conv2d, norm2: nn.Module,
                 fc1: nn.Conv2d, fc2: nn.Conv2d, num_heads: int, head_dim: int):
        super().__init__()
        # q, k and v as three 1×1 convs rather than one conv + channel slices: ExecuTorch's XNNPACK
        # partitioner rejects split_with_sizes, and litert-torch mis-converts the slices of a
        # quantized qkv (a zero-size view), so no slicing is left to either.
        self.norm1, self.proj = norm1, proj
        self.q, self.k, self.v = (_conv_rows(qkv, i * num_heads * head_dim, num_heads * head_dim) for i in range(3))
        self.norm2, self.fc1, self.fc2 = norm2, fc1, fc2
        self.act = nn.GELU()
        self.num_heads, self.head_dim = num_heads, head_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        inner, bh, hd = self.num_heads * self.head_dim, B * self.num_heads, self.head_dim
        n = self.norm1(x)
        # 3-D bmm: a 4-D matmul lowers to expand_copy, which ExecuTorch's XNNPACK partitioner rejects.
        q = self.q(n).reshape(bh, hd, H * W)
        k = self.k(n).reshape(bh, hd, H * W)
        v = self.v(n).reshape(bh, hd, H * W)
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
