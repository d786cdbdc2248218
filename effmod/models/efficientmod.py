"""EfficientMod (Ma et al., "Efficient Modulation for Vision Networks", ICLR 2024).

Training form, channels-last inside the stages, with module and parameter names that match the
official release so its checkpoints load with ``strict=True``. The deploy form (NCHW, folded norms
and scales, no ``repeat``) lives in ``effmod.deploy.reparameterize``.

Block structure (per official release):
  x + gamma_1 * fc2( act?(fc1(n)) * tile(g(GELU(dwconv7x7(f(n))))) ),  n = norm(x)
where blocks whose mlp ratio is 1 skip the activation after fc1 and the tiling.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
import torch.nn as nn

from ._registry import register_model
from .info import ModelInfo, imagenet_data_config


class ChannelsLastBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the last (channel) dim of a channels-last tensor of any rank."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def make_norm(kind: str, dim: int) -> nn.Module:
    if kind == "ln":
        return nn.LayerNorm(dim, eps=1e-5)
    if kind == "bn":
        return ChannelsLastBatchNorm(dim)
    raise ValueError(f"unknown norm kind {kind!r}")


class DropPath(nn.Module):
    """Stochastic depth per sample (identity in eval mode)."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class PatchEmbed(nn.Module):
    """Conv patch embedding (NCHW conv) followed by a norm on the channels-last result."""

    def __init__(self, in_chans: int, embed_dim: int, kernel: int, stride: int, pad: int, norm: str):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel, stride=stride, padding=pad)
        self.norm = make_norm(norm, embed_dim)

    def forward(self, x_nhwc: torch.Tensor) -> torch.Tensor:
        x = self.proj(x_nhwc.permute(0, 3, 1, 2))
        return self.norm(x.permute(0, 2, 3, 1))


class ContextLayer(nn.Module):
    """f (Linear) -> depthwise k×k conv(s) -> GELU -> g (Linear); channels-last in and out."""

    def __init__(self, in_dim: int, conv_dim: int, kernel_sizes: Sequence[int]):
        super().__init__()
        self.f = nn.Linear(in_dim, conv_dim)
        self.g = nn.Linear(conv_dim, in_dim)
        self.act = nn.GELU()
        self.context_list = nn.ModuleList(
            nn.Conv2d(conv_dim, conv_dim, k, padding=k // 2, groups=conv_dim) for k in kernel_sizes
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.f(x).permute(0, 3, 1, 2)
        out = sum(self.act(conv(x)) for conv in self.context_list)
        return self.g(out.permute(0, 2, 3, 1))


class ModulationMlp(nn.Module):
    """fc1 branch modulated by the context branch, then fc2 (the official ``Mlp``)."""

    def __init__(self, dim: int, mlp_ratio: float, group: int, kernel_sizes: Sequence[int]):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.group = group
        self.fc1 = nn.Linear(dim, hidden)
        self.context_layer = ContextLayer(dim, hidden // group, kernel_sizes)
        self.fc2 = nn.Linear(hidden, dim)
        # As released: blocks with hidden == dim and group 1 use neither activation nor tiling.
        self.expand = not (hidden == dim and group == 1)
        if self.expand:
            if dim * group != hidden:
                raise ValueError(f"mlp ratio {mlp_ratio} needs group {hidden // dim}, got {group}")
            self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ctx = self.context_layer(x)
        x = self.fc1(x)
        if self.expand:
            x = self.act(x) * ctx.repeat(1, 1, 1, self.group)
        else:
            x = x * ctx
        return self.fc2(x)


class ModulationBlock(nn.Module):
    def __init__(self, dim: int, mlp_ratio: float, group: int, kernel_sizes: Sequence[int],
                 norm: str, layerscale: float, drop_path: float):
        super().__init__()
        self.norm = make_norm(norm, dim)
        self.mlp = ModulationMlp(dim, mlp_ratio, group, kernel_sizes)
        self.gamma_1 = nn.Parameter(torch.full((dim,), layerscale))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop_path(self.gamma_1 * self.mlp(self.norm(x)))


class Attention(nn.Module):
    """Multi-head self-attention; head_dim = max(dim // heads, 32) as released."""

    def __init__(self, dim: int, num_heads: int = 8):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = max(dim // num_heads, 32)
        self.scale = self.head_dim ** -0.5
        inner = num_heads * self.head_dim
        self.qkv = nn.Linear(dim, 3 * inner, bias=False)
        self.proj = nn.Linear(inner, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, _ = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, self.num_heads * self.head_dim)
        return self.proj(x)


class LayerScale(nn.Module):
    def __init__(self, dim: int, init_value: float):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), init_value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class AttMlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class AttentionBlock(nn.Module):
    """Pre-norm transformer block on the flattened channels-last map. The release builds these
    without LayerScale (``ls1``/``ls2`` are identities); ``layerscale`` adds them for other checkpoints."""

    def __init__(self, dim: int, mlp_ratio: float, norm: str, drop_path: float,
                 layerscale: float | None = None):
        super().__init__()
        self.norm1 = make_norm(norm, dim)
        self.attn = Attention(dim)
        self.ls1 = LayerScale(dim, layerscale) if layerscale else nn.Identity()
        self.norm2 = make_norm(norm, dim)
        self.mlp = AttMlp(dim, int(dim * mlp_ratio))
        self.ls2 = LayerScale(dim, layerscale) if layerscale else nn.Identity()
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape
        x = x.reshape(B, H * W, C)
        x = x + self.drop_path(self.ls1(self.attn(self.norm1(x))))
        x = x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))
        return x.reshape(B, H, W, C)


class Stage(nn.Module):
    def __init__(self, blocks: list[nn.Module], downsample: nn.Module | None):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x)
        return self.downsample(x) if self.downsample is not None else x


@dataclass(frozen=True)
class EfficientModConfig:
    embed_dims: tuple[int, int, int, int]
    depths: tuple[int, int, int, int]                 # modulation blocks per stage
    attention_depths: tuple[int, int, int, int] = (0, 0, 0, 0)
    att_ratios: tuple[float, float, float, float] = (4, 4, 4, 4)
    mlp_ratio_cycle: tuple[int, ...] = (1, 6)        # ratio of block i is cycle[i % len]; group == ratio
    kernel_size: int = 7
    norm: str = "ln"                                  # "ln" (official) or "bn" (paper appendix)
    layerscale: float = 1e-4
    drop_path_rate: float = 0.0
    patch: tuple = field(default=((7, 4, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1)))  # (kernel, stride, pad)


class EfficientMod(nn.Module):
    def __init__(self, cfg: EfficientModConfig, num_classes: int = 1000, in_chans: int = 3):
        super().__init__()
        self.cfg = cfg
        self.num_classes = num_classes
        self.info = ModelInfo(name="efficientmod", num_classes=num_classes,
                              data_config=imagenet_data_config(labels=num_classes == 1000))
        dims = cfg.embed_dims
        k, s, p = cfg.patch[0]
        self.patch_embed = PatchEmbed(in_chans, dims[0], k, s, p, cfg.norm)
        total = sum(cfg.depths) + sum(cfg.attention_depths)
        dpr = torch.linspace(0, cfg.drop_path_rate, total).tolist() if total else []
        self.layers = nn.ModuleList()
        idx = 0
        for i, dim in enumerate(dims):
            blocks: list[nn.Module] = []
            for j in range(cfg.depths[i]):
                r = cfg.mlp_ratio_cycle[j % len(cfg.mlp_ratio_cycle)]
                blocks.append(ModulationBlock(dim, r, r, [cfg.kernel_size], cfg.norm, cfg.layerscale, dpr[idx]))
                idx += 1
            for _ in range(cfg.attention_depths[i]):
                blocks.append(AttentionBlock(dim, cfg.att_ratios[i], cfg.norm, dpr[idx]))
                idx += 1
            down = None
            if i < len(dims) - 1:
                k, s, p = cfg.patch[i + 1]
                down = PatchEmbed(dim, dims[i + 1], k, s, p, cfg.norm)
            self.layers.append(Stage(blocks, down))
        self.num_features = dims[-1]
        self.norm = make_norm(cfg.norm, dims[-1])
        self.head = nn.Linear(dims[-1], num_classes) if num_classes > 0 else nn.Identity()
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    @property
    def variant(self) -> str:
        return self.info.name

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x.permute(0, 2, 3, 1))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x).mean(dim=(1, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


# Variant definitions (ICLR 2024 release). s_conv has no attention blocks.
CONFIGS: dict[str, EfficientModConfig] = {
    "efficientmod_xxs": EfficientModConfig(
        embed_dims=(32, 64, 128, 256), depths=(2, 2, 6, 2), attention_depths=(0, 0, 1, 2),
        att_ratios=(0, 0, 4, 4)),
    "efficientmod_xs": EfficientModConfig(
        embed_dims=(32, 64, 144, 288), depths=(3, 3, 4, 2), attention_depths=(0, 0, 3, 3),
        mlp_ratio_cycle=(1, 4)),
    "efficientmod_s": EfficientModConfig(
        embed_dims=(32, 64, 144, 312), depths=(4, 4, 8, 4), attention_depths=(0, 0, 4, 4),
        att_ratios=(4, 4, 4, 5), drop_path_rate=0.02),
    "efficientmod_s_conv": EfficientModConfig(
        embed_dims=(40, 80, 160, 344), depths=(4, 4, 12, 8), drop_path_rate=0.02),
}


def _build(name: str, num_classes: int, norm: str, **kwargs) -> EfficientMod:
    from dataclasses import replace

    cfg = replace(CONFIGS[name], norm=norm, **kwargs)
    model = EfficientMod(cfg, num_classes=num_classes)
    model.info = ModelInfo(name=name + ("_bn" if norm == "bn" else ""), num_classes=num_classes,
                           data_config=imagenet_data_config(labels=num_classes == 1000))
    return model


@register_model
def efficientmod_xxs(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_xxs", num_classes, "ln", **kw)


@register_model
def efficientmod_xs(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_xs", num_classes, "ln", **kw)


@register_model
def efficientmod_s(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_s", num_classes, "ln", **kw)


@register_model
def efficientmod_s_conv(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_s_conv", num_classes, "ln", **kw)


@register_model
def efficientmod_xxs_bn(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_xxs", num_classes, "bn", **kw)


@register_model
def efficientmod_xs_bn(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_xs", num_classes, "bn", **kw)


@register_model
def efficientmod_s_bn(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_s", num_classes, "bn", **kw)


@register_model
def efficientmod_s_conv_bn(num_classes: int = 1000, **kw) -> EfficientMod:
    return _build("efficientmod_s_conv", num_classes, "bn", **kw)
