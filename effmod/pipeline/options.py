"""What an export is asked for (``ExportOptions``, frozen) and what it resolves to per target: the
(target, precision) pairs and one ``Recipe`` each. Every impossible combination is refused here,
before a model is loaded."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..errors import EffmodError
from ..precision import Precision
from ..recipe import Recipe
from ..targets import TARGETS, Target, by_name
from .arm64 import Arm64Request


@dataclass(frozen=True)
class ExportOptions:
    targets: tuple[str, ...]
    model: str = "efficientmod_xxs"
    weights: str | None = None           # path, built-in tag ("cifar10"), "auto" or None (random init)
    num_classes: int | None = None        # None: from the weights (effmod-trained files), else 1000
    img_size: int | None = None           # None: from the weights' data config, else 224
    precision: Precision | None = None    # None: each target's default (Core ML fp16, others fp32)
    deploy_form: bool = True
    image_input: bool = False
    output: str = "effmod-out"
    validate_data: str | None = None
    force: bool = False
    dynamic_batch: bool = False
    thresholds: dict[str, float] = field(default_factory=dict)
    threads: int | None = None
    calib: str | None = None              # INT8 calibration folder (None: built-in photos, with a warning)
    calib_size: int = 256
    keep_float: tuple[str, ...] = ()
    seed: int = 0
    io: Literal["float", "int8"] = "float"  # TFLite INT8 input/output
    auto_fallback: bool = False           # INT8 PT2E targets: keep sensitive blocks float until fallback_sqnr
    fallback_sqnr: float = 30.0           # dB vs fp32 the fallback aims for (fake-quant, calibration images)
    arm64: Arm64Request | None = None     # also check each artifact in its aarch64 runtime under QEMU

    def __post_init__(self):
        # lists from callers become tuples: the options of a run never change once made
        object.__setattr__(self, "targets", tuple(self.targets))
        object.__setattr__(self, "keep_float", tuple(self.keep_float))


def resolve_targets(names, precision: Precision | None) -> list[tuple[Target, Precision]]:
    """(target, precision) pairs; an impossible combination is refused before any work."""
    targets = list(TARGETS) if "all" in names else [by_name(n) for n in names]
    pairs = []
    for t in targets:
        p = precision or t.default_precision
        if p not in t.precisions:
            raise EffmodError(f"precision {p} is not available for target {t.name}",
                              hint=f"{t.name} exports {', '.join(t.precisions)}")
        pairs.append((t, p))
    return pairs


def recipe_for(opts: ExportOptions, target: Target, precision: Precision) -> Recipe:
    """The recipe one (target, precision) of this run is built with, before what the build learns."""
    int8 = precision == "int8"
    return Recipe(precision=precision, deploy_form=opts.deploy_form, deploy_options=target.deploy_options,
                  image_input=opts.image_input and target.takes_image_input,
                  dynamic_batch=opts.dynamic_batch and target.dynamic_batch,
                  io=opts.io if int8 and target.int8_io else "float",
                  keep_float=opts.keep_float if int8 else ())


def artifact_name(model: str, img_size: int, target: Target, recipe: Recipe) -> str:
    form = "" if recipe.deploy_form else "_naive"
    img = "_img" if recipe.image_input else ""
    return f"{model}_{img_size}_{recipe.precision}{form}{img}{target.suffix}"


def check_quant_options(opts: ExportOptions, pairs: list[tuple[Target, Precision]]) -> None:
    """INT8 option mistakes are refused before any work (no model load, no calibration)."""
    int8 = [t for t, p in pairs if p == "int8"]
    if (opts.calib or opts.keep_float or opts.auto_fallback) and not int8:
        raise EffmodError("--calib/--keep-float/--auto-fallback only apply to INT8 exports", hint="add --quantize int8")
    if opts.io != "float" and not any(t.int8_io for t in int8):
        with_io = [t.name for t in TARGETS if t.int8_io]
        raise EffmodError(f"--io int8 applies to {', '.join(with_io)} INT8 exports only",
                          hint=f"use --target {with_io[0]} --quantize int8")
    if not int8:
        return
    if opts.keep_float or opts.auto_fallback:
        no_keep = [t.name for t in int8 if not t.has_float_islands]
        flag = "--keep-float" if opts.keep_float else "--auto-fallback"
        if no_keep:
            raise EffmodError(f"{flag} is not available for {', '.join(no_keep)} INT8",
                              hint="those targets use an op-type recipe (recorded in the manifest); "
                                   "--keep-float works for " + ", ".join(t.name for t in TARGETS if t.has_float_islands))
    from ..quantize.calibration import check_calibration_args

    check_calibration_args(opts.calib, opts.calib_size)
