"""The manifest written beside every artifact (``<artifact>.json``): what the artifact is, how to feed
it, what it was made from, and how its parity check went. Written by ``effmod export``, read by every
command that opens an artifact (validate, debug, bench, package, sweep) and by the runners."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from .cost import CostReport
from .errors import EffmodError
from .eval.data_config import DataConfig
from .parity import ParityResult
from .precision import Precision
from .recipe import Recipe, legacy_recipe

MANIFEST_VERSION = 2  # 2: the typed recipe (effmod.recipe); 1 (effmod 0.1.0) still loads


def manifest_path(artifact: str | Path) -> Path:
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + ".json")


def artifact_sha256(path: Path) -> str:
    """sha256 of a file, or of a directory package (relative paths + contents, sorted)."""
    path = Path(path)
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def artifact_bytes(path: Path) -> int:
    path = Path(path)
    return sum(p.stat().st_size for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())


@dataclass
class TensorSpec:
    """One graph input or output as an app must feed or read it."""

    name: str
    shape: list                              # ints, or a name for a dynamic dim ("batch")
    dtype: str                               # float32, float16, int8, or image_rgb (Core ML ImageType)
    layout: str | None = None                # inputs: NCHW or NHWC
    scale: float | None = None               # integer I/O: real = (q - zero_point) * scale
    zero_point: int | None = None
    pixel_range: list[int] | None = None     # image inputs: [0, 255], normalised in-graph with mean/std
    mean: list[float] | None = None
    std: list[float] | None = None

    _ORDER = ("name", "shape", "layout", "dtype", "scale", "zero_point", "pixel_range", "mean", "std")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._ORDER if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, d: dict) -> TensorSpec:
        return cls(**{k: d[k] for k in cls._ORDER if k in d})


@dataclass
class Delegation:
    delegate: str
    partitions: int
    total_nodes: int
    delegated_nodes: int
    delegated_fraction: float
    not_delegated_ops: dict[str, int]

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> Delegation:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Preprocessing:
    """What an app does to a photo before the artifact sees it: resize the shorter side, centre-crop,
    scale to [0, 1], normalise with mean/std."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    shorter_side: int
    interpolation: str
    crop_size: tuple[int, int]
    crop_pct: float

    @classmethod
    def of(cls, data_config: DataConfig) -> Preprocessing:
        _, h, w = data_config.input_size
        crop_pct = data_config.crop_pct or 1.0
        return cls(tuple(data_config.mean), tuple(data_config.std), int(round(max(h, w) / crop_pct)),
                   data_config.interpolation, (h, w), crop_pct)

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "scale": "pixel / 255",
                "resize": {"shorter_side": self.shorter_side, "interpolation": self.interpolation},
                "crop": {"size": list(self.crop_size), "crop_pct": self.crop_pct, "mode": "center"}}

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessing:
        three = lambda v: isinstance(v, list) and len(v) == 3 and all(isinstance(x, (int, float)) for x in v)  # noqa: E731
        if not (isinstance(d, dict) and three(d.get("mean")) and three(d.get("std"))
                and isinstance(d.get("resize"), dict) and isinstance(d.get("crop"), dict)):
            raise ValueError("preprocessing needs mean/std (3 numbers each), resize and crop")
        resize, crop = d["resize"], d["crop"]
        size = crop.get("size") or [0, 0]
        return cls(tuple(d["mean"]), tuple(d["std"]), int(resize.get("shorter_side") or 0),
                   resize.get("interpolation") or "bicubic", (int(size[0]), int(size[1])),
                   float(crop.get("crop_pct") or 1.0))


@dataclass(frozen=True)
class Component:
    """A converter or runtime and its version; ``also``: versions of the libraries it needs."""

    name: str
    version: str | None
    also: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "version": self.version, **self.also}

    @classmethod
    def from_dict(cls, d: dict) -> Component:
        return cls(d["name"], d.get("version"), {k: v for k, v in d.items() if k not in ("name", "version")})


@dataclass(frozen=True)
class Versions:
    torch: str
    converter: Component
    runtime: Component
    effmod: str

    def to_dict(self) -> dict:
        return {"torch": self.torch, "converter": self.converter.to_dict(), "runtime": self.runtime.to_dict(),
                "effmod": self.effmod}

    @classmethod
    def from_dict(cls, d: dict) -> Versions:
        return cls(d["torch"], Component.from_dict(d["converter"]), Component.from_dict(d["runtime"]), d["effmod"])


@dataclass
class Manifest:
    model: str
    num_classes: int
    target: str
    precision: Precision
    artifact: str                      # file name of the artifact (it lies beside this manifest)
    artifact_bytes: int
    artifact_sha256: str
    weights: str | None                # path or built-in tag; None: random init
    weights_sha256: str | None
    trained: bool
    deploy_form: dict | None           # rewrite counts + options; None with --no-deploy-form
    input: TensorSpec
    output: TensorSpec
    preprocessing: Preprocessing
    labels: list[str] | None
    versions: Versions
    parity: ParityResult
    delegation: Delegation | None
    notes: list[str]
    export_seconds: float
    created: str
    recipe: Recipe                     # what it was built with; validate, debug and the sweep rebuild from it
    cost: CostReport | None = None     # INT8 MAC share, float islands, nodes, partitions (effmod.cost)
    path: str | None = field(default=None, compare=False)  # where the artifact lies; not written to the file

    def data_config(self) -> DataConfig:
        """The preprocessing the artifact expects, as the model's data config."""
        pre = self.preprocessing
        shape = self.input.shape
        hw = (int(shape[2]), int(shape[3])) if self.input.layout != "NHWC" else (int(shape[1]), int(shape[2]))
        return DataConfig(input_size=(3, *hw), mean=pre.mean, std=pre.std, interpolation=pre.interpolation,
                          crop_pct=pre.crop_pct, labels=tuple(self.labels) if self.labels else None)

    @property
    def quantization(self) -> dict | None:
        """The INT8 recipe as effmod 0.1.0 wrote it (for people and apps); effmod reads ``recipe``."""
        return self.recipe.quantization_view()

    def to_dict(self, with_path: bool = False) -> dict:
        d = {"effmod_manifest": MANIFEST_VERSION}
        for f in fields(self):
            if f.name == "path":
                continue
            value = getattr(self, f.name)
            d[f.name] = value.to_dict() if hasattr(value, "to_dict") else value
        if self.quantization is not None:
            d["quantization"] = self.quantization
        if with_path and self.path is not None:
            d["path"] = self.path
        return d

    @classmethod
    def from_dict(cls, d: dict, source: str = "manifest") -> Manifest:
        if not isinstance(d, dict) or "effmod_manifest" not in d:
            raise EffmodError(f"{source} is not an effmod manifest", hint="re-export the artifact with effmod export")
        if isinstance(d["effmod_manifest"], int) and d["effmod_manifest"] > MANIFEST_VERSION:
            raise EffmodError(f"{source} is a manifest of version {d['effmod_manifest']}, newer than this effmod's "
                              f"{MANIFEST_VERSION}", hint="upgrade effmod to read it")
        try:
            missing = [k for k in ("model", "target", "precision", "artifact", "preprocessing", "input", "output",
                                   "parity", "versions") if d.get(k) is None]
            if missing:
                raise KeyError(missing[0])
            values = {f.name: d.get(f.name) for f in fields(cls) if f.name != "path"}
            values.update(input=TensorSpec.from_dict(d["input"]), output=TensorSpec.from_dict(d["output"]),
                          parity=ParityResult.from_dict(d["parity"]),
                          delegation=Delegation.from_dict(d["delegation"]) if d.get("delegation") else None,
                          notes=list(d.get("notes") or []), preprocessing=Preprocessing.from_dict(d["preprocessing"]),
                          versions=Versions.from_dict(d["versions"]),
                          cost=CostReport.from_dict(d["cost"]) if d.get("cost") else None)
            if d.get("quantization") is not None and not isinstance(d["quantization"], dict):
                raise TypeError("quantization must be a mapping")
            values["recipe"] = (Recipe.from_dict(d["recipe"], source) if "recipe" in d
                                else legacy_recipe(d, source))
            m = cls(**values)
            m._check_types()
            return m
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise EffmodError(f"{source} is not a complete effmod manifest ({type(e).__name__}: {e})",
                              hint="re-export the artifact with effmod export") from None

    def _check_types(self) -> None:
        """What commands read from a manifest must have the right types (a hand-edited file may not)."""
        from .precision import PRECISIONS

        def need(ok: bool, what: str):
            if not ok:
                raise ValueError(what)
        need(isinstance(self.model, str) and isinstance(self.target, str) and isinstance(self.artifact, str),
             "model, target and artifact must be strings")
        need(self.precision in PRECISIONS, f"precision {self.precision!r} is not one of {', '.join(PRECISIONS)}")
        need(self.num_classes is None or (isinstance(self.num_classes, int) and self.num_classes > 0),
             f"num_classes {self.num_classes!r} is not a positive integer")
        shape = self.input.shape
        need(isinstance(shape, list) and len(shape) == 4 and all(isinstance(d, (int, str)) for d in shape),
             f"input shape {shape!r} is not [N, C, H, W]")
        need(self.input.layout in (None, "NCHW", "NHWC"), f"input layout {self.input.layout!r}")
        need(isinstance(self.output.shape, list), f"output shape {self.output.shape!r}")
        need(self.labels is None or (isinstance(self.labels, list) and all(isinstance(v, str) for v in self.labels)),
             "labels must be a list of strings")

    @classmethod
    def read(cls, artifact: str | Path) -> Manifest | None:
        """The manifest beside ``artifact``, or None when there is none."""
        path = manifest_path(artifact)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise EffmodError(f"{path} is not valid JSON ({e})",
                              hint="restore it, or re-export the artifact with effmod export") from None
        except OSError as e:
            raise EffmodError(f"cannot read {path}: {e.strerror}") from None
        m = cls.from_dict(data, source=str(path))
        m.path = str(artifact)
        return m

    @classmethod
    def for_artifact(cls, artifact: str | Path) -> Manifest:
        m = cls.read(artifact)
        if m is None:
            raise EffmodError(f"no manifest beside {artifact} ({manifest_path(artifact).name})",
                              hint="use an artifact written by effmod export, with its .json beside it")
        return m

    def write(self, artifact: str | Path) -> Path:
        path = manifest_path(artifact)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path
