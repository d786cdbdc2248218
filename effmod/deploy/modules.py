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

    ``scaled=True`` divides ``x - mean`` by its per-pixel max |.| before squaring (exact in real
    arithmetic). In fp16 (Core ML) the plain square overflows: the residual stream of the CIFAR-10
    xxs reaches |x - mean| > 256 (65504 = fp16's max is 255.9²), the variance becomes inf and the
    output collapses to 0. Scaled, every square is at most 1 and the largest is exactly 1, so the
    mean of squares is at least 1/C: neither overflow nor underflow (docs/coreml-on-linux.md).
    """

    def __init__(self, dim: int, eps: float, weight: torch.Tensor | None = None,
                 bias: torch.Tensor | None = None, channel_mean: str = "reduce", scaled: bool = False):
        super().__init__()
        self.eps = eps
        self.scaled = scaled
        self.weight = None if weight is None else nn.Parameter(weight.detach().clone().view(1, -1, 1, 1))
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone().view(1, -1, 1, 1))
        self.channel_mean = channel_mean
        if channel_mean == "conv":
            self.register_buffer("avg", torch.full((1, dim, 1, 1), 1.0 / dim))

    def _mean(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.avg) if self.channel_mean == "conv" else x.mean(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xc = x - self._mean(x)
        if self.scaled:
            # m >= sqrt(eps) keeps u finite at constant pixels; eps / m² is written (sqrt(eps) / m)², since
            # m² itself overflows fp16 exactly where the plain square does
            m = torch.clamp(xc.abs().amax(dim=1, keepdim=True), min=self.eps ** 0.5)
            u, r = xc / m, self.eps ** 0.5 / m
            x = u * torch.rsqrt(self._mean(u * u) + r * r)
        else:
            x = xc * torch.rsqrt(self._mean(xc * xc) + self.eps)
        if self.weight is not None:
            x = x * self.weight
        if self.bias is not None:
            x = x + self.bias
        return x


def _split_taps(rows: tuple[int, int, int], cols: tuple[int, int, int], max_taps: int) -> list:
    """Cover a kernel's taps with boxes of at most ``max_taps`` taps, each centred on the kernel centre.

    An axis is (first tap, step, count) of a progression symmetric about the centre. Taking every
    other tap of an odd-length one gives two progressions (step doubled) that are both still
    centred, so each box keeps the conv's symmetric padding and needs no shift or slice."""
    if rows[2] * cols[2] <= max_taps:
        return [(rows, cols)]
    for axis in sorted((0, 1), key=lambda a: -(rows, cols)[a][2]):
        first, step, count = (rows, cols)[axis]
        if count > 1 and count % 2 == 1:
            halves = [(first, 2 * step, (count + 1) // 2), (first + step, 2 * step, count // 2)]
            return [box for h in halves
                    for box in _split_taps(*((h, cols) if axis == 0 else (rows, h)), max_taps)]
    raise ValueError(f"cannot split a {rows[2]}x{cols[2]} kernel into centred parts of <= {max_taps} taps")


class SplitDepthwiseConv(nn.Module):
    """A k×k depthwise conv computed exactly as a sum of dilated depthwise convs of at most
    ``max_taps`` taps each.

    XNNPACK (as bundled with ExecuTorch 1.4 and LiteRT 2.3) has fast depthwise kernels up to 25
    taps; a 7×7 (49 taps) falls off them and ran 17× slower than a 5×5 on these CPUs. A 7×7 splits
    into rows {1,3,5} × all columns (21 taps), rows {0,2,4,6} × columns {0,2,4,6} (16) and rows
    {0,2,4,6} × columns {1,3,5} (12), each a dilation-2 conv centred like the original, so each
    uses the original's padding and no output has to be shifted. Measured against the earlier row
    bands (3×7 + 3×7 + 1×7 with sliced outputs): TFLite fp32 0.94×, INT8 0.91× the time (xxs).
    """

    MAX_TAPS = 25

    def __init__(self, conv: nn.Conv2d, max_taps: int = MAX_TAPS):
        super().__init__()
        kh, kw = conv.kernel_size
        if (conv.stride != (1, 1) or conv.dilation != (1, 1) or kh % 2 == 0 or kw % 2 == 0
                or conv.padding != (kh // 2, kw // 2)):
            raise ValueError("SplitDepthwiseConv needs stride 1, dilation 1 and an odd kernel with 'same' padding")
        self.groups = conv.groups
        self.parts = _split_taps((0, 1, kh), (0, 1, kw), max_taps)
        w = conv.weight.detach()
        self.weights = nn.ParameterList(
            nn.Parameter(w[:, :, r0:r0 + rs * (rn - 1) + 1:rs, c0:c0 + cs * (cn - 1) + 1:cs].clone())
            for (r0, rs, rn), (c0, cs, cn) in self.parts)
        # padding of each part = the original padding minus its first tap's offset
        self.conv_args = [((kh // 2 - r0, kw // 2 - c0), (rs, cs)) for (r0, rs, _), (c0, cs, _) in self.parts]
        self.bias = nn.Parameter(conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = None
        for i, (w, (padding, dilation)) in enumerate(zip(self.weights, self.conv_args)):
            part = F.conv2d(x, w, self.bias if i == 0 else None, padding=padding, dilation=dilation,
                            groups=self.groups)
            y = part if y is None else y + part
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
