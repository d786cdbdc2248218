"""``reparameterize(model)``: the deploy form of an EfficientMod model (a pure function).

What it does (each counted in the report):
- NCHW throughout; every Linear on a channels-last map becomes a 1×1 conv (no permutes left
  outside attention);
- pre-norm affines (LayerNorm weight/bias, or whole BatchNorms) folded into the projections that
  consume the normalised tensor (``f`` and ``fc1``; ``qkv``; attention ``fc1``; the head);
- BatchNorm after a patch-embedding conv folded into that conv;
- LayerScale (``gamma_1``, ``ls1``, ``ls2``) folded into the projection before it;
- the attention softmax scale folded into the q rows of ``qkv`` (then split into q, k, v convs);
- ``repeat`` + multiply replaced by a broadcast multiply, or (``tile_context``) the repeat folded into
  the rows of ``g`` so the multiply is a plain elementwise one;
- dropout / drop-path removed (the deploy modules have none).
"""
from __future__ import annotations

from collections import Counter

import torch
import torch.nn as nn

from ..recipe import DeployOptions
from ..models.efficientmod import AttentionBlock, EfficientMod, ModulationBlock, PatchEmbed
from .modules import (ChannelNorm, DeployAttentionBlock, DeployEfficientMod, DeployHead, DeployModulationBlock,
                             DeployPatchEmbed, SplitDepthwiseConv)
from .folding import (fold_bn_into_conv, fold_input_affine, fold_output_scale, linear_as_conv1x1,
                      norm_affine, tile_output_channels)


def _is_bn(m: nn.Module) -> bool:
    return isinstance(m, nn.modules.batchnorm._BatchNorm)


class _Folder:
    def __init__(self, options: DeployOptions) -> None:
        self.options = options
        self.report: Counter = Counter()

    def prenorm(self, norm: nn.Module) -> tuple[nn.Module, torch.Tensor | None, torch.Tensor | None]:
        """Split a pre-norm into what stays in the graph and the affine to fold into consumers."""
        scale, shift = norm_affine(norm)
        if _is_bn(norm):
            self.report["batchnorm_folded"] += 1
            return nn.Identity(), scale, shift
        self.report["layernorm_affine_folded"] += 1
        return ChannelNorm(scale.numel(), norm.eps, channel_mean=self.options.channel_mean,
                           scaled=self.options.scaled_norm), scale, shift

    def consumer(self, lin: nn.Linear, scale, shift, out_scale=None, as_conv=True):
        w, b = fold_input_affine(lin.weight, lin.bias, scale, shift)
        if out_scale is not None:
            w, b = fold_output_scale(w, b, out_scale)
        if not as_conv:
            fc = nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                fc.weight.copy_(w)
                fc.bias.copy_(b)
            return fc
        self.report["linear_to_conv1x1"] += 1
        return linear_as_conv1x1(w, b)

    def projection(self, lin: nn.Linear, out_scale: torch.Tensor | None) -> nn.Conv2d:
        """A projection whose output is scaled by a LayerScale (or not)."""
        w, b = lin.weight.detach(), None if lin.bias is None else lin.bias.detach()
        if out_scale is not None:
            w, b = fold_output_scale(w, b, out_scale)
            self.report["layerscale_folded"] += 1
        self.report["linear_to_conv1x1"] += 1
        return linear_as_conv1x1(w, b)

    def patch_embed(self, pe: PatchEmbed) -> DeployPatchEmbed:
        conv = nn.Conv2d(pe.proj.in_channels, pe.proj.out_channels, pe.proj.kernel_size,
                         stride=pe.proj.stride, padding=pe.proj.padding)
        w, b = pe.proj.weight.detach(), pe.proj.bias.detach()
        if _is_bn(pe.norm):
            w, b = fold_bn_into_conv(w, b, pe.norm)
            norm: nn.Module = nn.Identity()
            self.report["batchnorm_folded"] += 1
        else:
            # The normalised tensor here is the residual stream itself: keep the affine.
            norm = ChannelNorm(pe.norm.normalized_shape[0], pe.norm.eps, pe.norm.weight, pe.norm.bias,
                               channel_mean=self.options.channel_mean, scaled=self.options.scaled_norm)
        with torch.no_grad():
            conv.weight.copy_(w)
            conv.bias.copy_(b)
        return DeployPatchEmbed(conv, norm)

    def modulation_block(self, blk: ModulationBlock) -> DeployModulationBlock:
        norm, s, t = self.prenorm(blk.norm)
        mlp, ctx = blk.mlp, blk.mlp.context_layer
        dws = nn.ModuleList()
        for conv in ctx.context_list:
            dw = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                           padding=conv.padding, groups=conv.groups)
            dw.load_state_dict(conv.state_dict())
            if self.options.split_large_dw and dw.kernel_size[0] * dw.kernel_size[1] > SplitDepthwiseConv.MAX_TAPS:
                dw = SplitDepthwiseConv(dw)
                self.report["depthwise_split_dilated"] += 1
            dws.append(dw)
        g, group = self.projection(ctx.g, None), mlp.group
        if mlp.expand and group > 1:
            if self.options.tile_context:
                g, group = tile_output_channels(g, group), 1
                self.report["repeat_folded_into_g"] += 1
            else:
                self.report["repeat_to_broadcast"] += 1
        gamma = blk.gamma_1.detach() if isinstance(blk.gamma_1, torch.Tensor) else None
        return DeployModulationBlock(
            norm=norm,
            f=self.consumer(ctx.f, s, t),
            dws=dws,
            g=g,
            fc1=self.consumer(mlp.fc1, s, t),
            fc2=self.projection(mlp.fc2, gamma),
            group=group,
            expand=mlp.expand,
        )

    def attention_block(self, blk: AttentionBlock) -> DeployAttentionBlock:
        attn = blk.attn
        norm1, s1, t1 = self.prenorm(blk.norm1)
        norm2, s2, t2 = self.prenorm(blk.norm2)
        inner = attn.num_heads * attn.head_dim
        qscale = torch.ones(3 * inner)
        qscale[:inner] = attn.scale
        self.report["attention_scale_folded"] += 1
        ls1 = blk.ls1.gamma.detach() if hasattr(blk.ls1, "gamma") else None
        ls2 = blk.ls2.gamma.detach() if hasattr(blk.ls2, "gamma") else None
        return DeployAttentionBlock(
            norm1=norm1,
            qkv=self.consumer(attn.qkv, s1, t1, out_scale=qscale),
            proj=self.projection(attn.proj, ls1),
            norm2=norm2,
            fc1=self.consumer(blk.mlp.fc1, s2, t2),
            fc2=self.projection(blk.mlp.fc2, ls2),
            num_heads=attn.num_heads,
            head_dim=attn.head_dim,
        )

    def model(self, model: EfficientMod) -> DeployEfficientMod:
        stem = self.patch_embed(model.patch_embed)
        stages = nn.ModuleList()
        for layer in model.layers:
            blocks: list[nn.Module] = []
            for blk in layer.blocks:
                if isinstance(blk, ModulationBlock):
                    blocks.append(self.modulation_block(blk))
                elif isinstance(blk, AttentionBlock):
                    blocks.append(self.attention_block(blk))
                else:
                    raise TypeError(f"unexpected block {type(blk).__name__}")
            if layer.downsample is not None:
                blocks.append(self.patch_embed(layer.downsample))
            stages.append(nn.Sequential(*blocks))
        norm, s, t = self.prenorm(model.norm)
        head = DeployHead(norm, self.consumer(model.head, s, t, as_conv=False))
        return DeployEfficientMod(stem, stages, head)


def reparameterize(model: nn.Module, report: bool = False, options: DeployOptions | None = None):
    """Return the deploy form of ``model`` (an ``EfficientMod``), computing the same function.

    ``options`` picks runtime-specific graph details (default: the plain NCHW form).
    The input model is not modified. With ``report=True`` returns ``(deploy_model, report)`` where
    ``report`` counts each rewrite (see module docstring); the report is also stored as
    ``deploy_model.reparam_report``.
    """
    if not isinstance(model, EfficientMod):
        raise TypeError(f"reparameterize expects an EfficientMod model, got {type(model).__name__}")
    if not isinstance(model.head, nn.Linear):
        raise ValueError("reparameterize needs a classifier head (num_classes > 0)")
    folder = _Folder(options or DeployOptions())
    with torch.no_grad():
        deployed = folder.model(model).eval()
    deployed.reparam_report = dict(folder.report)
    # The model's record travels with the deploy form, so exporters need only one object.
    deployed.info = model.info
    deployed.num_classes = model.num_classes
    return (deployed, deployed.reparam_report) if report else deployed
