"""The recipe: everything that decides what an artifact computes, as one typed, versioned record.

Export resolves it once per (target, precision) from the options, adds the facts it learns while
building (the calibration images it drew, the blocks auto-fallback kept in float, the quantizer's own
description), writes it into the manifest, and validate, debug and the sweep rebuild from it. Manifests
of effmod 0.1.0 carry no recipe; ``legacy_recipe`` reads theirs from the older fields, in one place."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from .errors import EffmodError
from .precision import PRECISIONS, Precision

RECIPE_VERSION = 1
BUILTIN_CALIBRATION = "built-in sample photos"


@dataclass(frozen=True)
class DeployOptions:
    """Graph details of the deploy form, chosen per target by measurement (docs/deploy-form.md)."""

    channel_mean: Literal["reduce", "conv"] = "reduce"  # mean over dim 1, or a constant 1×1 conv
    split_large_dw: bool = False     # depthwise kernels over 25 taps (XNNPACK's fast limit) -> exact dilated parts
    # Fold the context's repeat over the channel groups into g's rows (g: D -> group*D channels). It costs
    # (group-1)*D*C MACs per pixel, but the multiply becomes plain elementwise: litert-torch wraps the
    # broadcast form's channel-splitting view [B, group, D, H*W] in an NHWC<->NCHW transpose pair.
    tile_context: bool = False
    # Channel norms scaled before squaring (ChannelNorm.scaled): fp16 programs (Core ML) overflow otherwise
    scaled_norm: bool = False

    @classmethod
    def from_dict(cls, d: dict, source: str) -> DeployOptions:
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise EffmodError(f"{source} records deploy options this effmod does not know ({', '.join(unknown)})",
                              hint="re-export the artifact with this effmod version")
        return cls(**d)


@dataclass(frozen=True)
class CalibrationFacts:
    """The calibration images an INT8 export drew: enough to draw them again and prove it (the hash)."""

    source: str                      # the folder (absolute), or BUILTIN_CALIBRATION
    size: int                        # images asked for (--calib-size)
    seed: int
    n_images: int                    # images drawn
    files_sha256: str                # of the sorted file list drawn
    classes: int | None = None
    skipped_unreadable: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FallbackStep:
    kept_float: tuple[str, ...]
    sqnr_db: float
    top1_agreement: float


@dataclass(frozen=True)
class FallbackFacts:
    """What --auto-fallback measured and kept in float (fake-quantized model vs fp32, calibration images)."""

    min_sqnr_db: float
    reached: bool
    kept_float: tuple[str, ...]
    sqnr_db: float
    float_params: int
    float_params_fraction: float
    history: tuple[FallbackStep, ...] = ()
    ranking: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    """What one artifact was built with. Immutable: export adds facts with ``dataclasses.replace``."""

    precision: Precision
    deploy_form: bool = True                     # False: the official graph as-is (--no-deploy-form)
    deploy_options: DeployOptions = field(default_factory=DeployOptions)
    image_input: bool = False                    # RGB image input with preprocessing in the graph
    dynamic_batch: bool = False
    io: Literal["float", "int8"] = "float"       # INT8 graph input/output
    keep_float: tuple[str, ...] = ()             # float islands asked for (--keep-float and target defaults)
    calibration: CalibrationFacts | None = None
    auto_fallback: FallbackFacts | None = None
    # The quantizer's own description of its scheme (tool, format, quantized op types): read by people
    # and apps, never by effmod to rebuild.
    quantizer: dict[str, Any] | None = None
    version: int = RECIPE_VERSION

    @property
    def float_islands(self) -> tuple[str, ...]:
        """Modules kept in float: the patterns asked for and the blocks auto-fallback chose."""
        kept = self.auto_fallback.kept_float if self.auto_fallback else ()
        return tuple(dict.fromkeys((*self.keep_float, *kept)))

    def with_facts(self, **facts) -> Recipe:
        return replace(self, **facts)

    def to_dict(self) -> dict:
        return asdict(self)

    def quantization_view(self) -> dict | None:
        """The manifest's ``quantization`` entry as effmod 0.1.0 wrote it (apps and people read it)."""
        if self.quantizer is None:
            return None
        view = dict(self.quantizer)
        if self.precision == "int8":
            view["calibration"] = asdict(self.calibration) if self.calibration else None
            view["auto_fallback"] = asdict(self.auto_fallback) if self.auto_fallback else None
        return view

    @classmethod
    def from_dict(cls, d: dict, source: str) -> Recipe:
        if not isinstance(d, dict) or not isinstance(d.get("version"), int):
            raise EffmodError(f"{source} has no readable recipe", hint="re-export the artifact with effmod export")
        if d["version"] > RECIPE_VERSION:
            raise EffmodError(f"{source} records a recipe of version {d['version']}, newer than this effmod's "
                              f"{RECIPE_VERSION}", hint="upgrade effmod to read it")
        try:
            cal, fb = d["calibration"], d["auto_fallback"]
            recipe = cls(precision=d["precision"], deploy_form=bool(d["deploy_form"]),
                         deploy_options=DeployOptions.from_dict(d["deploy_options"], source),
                         image_input=bool(d["image_input"]), dynamic_batch=bool(d["dynamic_batch"]), io=d["io"],
                         keep_float=tuple(d["keep_float"]), calibration=_calibration(cal) if cal else None,
                         auto_fallback=_fallback(fb) if fb else None, quantizer=d["quantizer"], version=d["version"])
        except (KeyError, TypeError, ValueError) as e:
            raise EffmodError(f"{source} has an incomplete recipe ({type(e).__name__}: {e})",
                              hint="re-export the artifact with effmod export") from None
        if recipe.precision not in PRECISIONS or recipe.io not in ("float", "int8"):
            raise EffmodError(f"{source} records precision {recipe.precision!r} / io {recipe.io!r}",
                              hint="re-export the artifact with effmod export")
        return recipe


def _calibration(d: dict) -> CalibrationFacts:
    return CalibrationFacts(**{**d, "warnings": tuple(d.get("warnings") or ())})


def _fallback(d: dict) -> FallbackFacts:
    history = tuple(FallbackStep(tuple(h["kept_float"]), h["sqnr_db"], h["top1_agreement"]) for h in d["history"])
    return FallbackFacts(min_sqnr_db=d["min_sqnr_db"], reached=d["reached"], kept_float=tuple(d["kept_float"]),
                         sqnr_db=d["sqnr_db"], float_params=d["float_params"],
                         float_params_fraction=d["float_params_fraction"], history=history,
                         ranking=tuple(d.get("ranking") or ()))


def legacy_recipe(d: dict, source: str) -> Recipe:
    """The recipe of a manifest written by effmod 0.1.0 (no ``recipe`` entry), from the fields it had:
    ``deploy_form.options``, ``quantization`` and the input spec. The only place that reads them."""
    deploy = d.get("deploy_form")
    q = dict(d.get("quantization") or {})
    cal, fb = q.pop("calibration", None), q.pop("auto_fallback", None)
    calibration = None
    if cal:
        size = cal.get("size") or cal.get("n_images")
        if size is None or not cal.get("files_sha256"):
            calibration = None  # too old to redraw: rebuilds say so (pipeline.rebuild)
        else:
            calibration = CalibrationFacts(source=cal.get("source") or BUILTIN_CALIBRATION, size=int(size),
                                           seed=int(cal.get("seed", 0)), n_images=int(cal.get("n_images") or size),
                                           files_sha256=cal["files_sha256"], classes=cal.get("classes"),
                                           skipped_unreadable=int(cal.get("skipped_unreadable") or 0),
                                           warnings=tuple(cal.get("warnings") or ()))
    inp = d.get("input") or {}
    return Recipe(precision=d.get("precision"), deploy_form=deploy is not None,
                  deploy_options=DeployOptions.from_dict((deploy or {}).get("options", {}), source),
                  image_input=inp.get("dtype") == "image_rgb", dynamic_batch=(inp.get("shape") or [1])[0] == "batch",
                  io=q.get("io", "float"),
                  keep_float=tuple(q.get("keep_float", ())), calibration=calibration,
                  auto_fallback=_fallback(fb) if fb else None, quantizer=(q or None) if d.get("quantization") else None)
