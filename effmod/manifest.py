"""The manifest written beside every artifact (``<artifact>.json``): what the artifact is, how to feed
it, what it was made from, and how its parity check went. Written by ``effmod export``, read by every
command that opens an artifact (validate, debug, bench, package, sweep) and by the runners."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import EffmodError
from .eval.data_config import DataConfig
from .parity import ParityResult
from .precision import Precision

MANIFEST_VERSION = 1


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


def preprocessing(data_config: DataConfig) -> dict:
    """The manifest's human- and app-readable preprocessing recipe."""
    _, h, w = data_config.input_size
    crop_pct = data_config.crop_pct or 1.0
    return {
        "mean": list(data_config.mean),
        "std": list(data_config.std),
        "scale": "pixel / 255",
        "resize": {"shorter_side": int(round(max(h, w) / crop_pct)), "interpolation": data_config.interpolation},
        "crop": {"size": [h, w], "crop_pct": crop_pct, "mode": "center"},
    }


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
    preprocessing: dict
    labels: list[str] | None
    versions: dict                     # torch, converter, runtime, effmod
    parity: ParityResult
    delegation: Delegation | None
    notes: list[str]
    export_seconds: float
    created: str
    quantization: dict | None = None   # the INT8 recipe, calibration and fallback facts
    path: str | None = field(default=None, compare=False)  # where the artifact lies; not written to the file

    def data_config(self) -> DataConfig:
        """The preprocessing the artifact expects, as the model's data config."""
        pre = self.preprocessing
        shape = [d for d in self.input.shape]
        return DataConfig(input_size=(3, int(shape[2]), int(shape[3])) if self.input.layout != "NHWC"
                          else (3, int(shape[1]), int(shape[2])),
                          mean=tuple(pre["mean"]), std=tuple(pre["std"]),
                          interpolation=pre["resize"].get("interpolation") or "bicubic",
                          crop_pct=pre["crop"].get("crop_pct") or 1.0,
                          labels=tuple(self.labels) if self.labels else None)

    def to_dict(self, with_path: bool = False) -> dict:
        d = {"effmod_manifest": MANIFEST_VERSION}
        for f in fields(self):
            if f.name in ("quantization", "path"):
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
        try:
            values = {f.name: d.get(f.name) for f in fields(cls)}
            values["input"] = TensorSpec.from_dict(d["input"])
            values["output"] = TensorSpec.from_dict(d["output"])
            values["parity"] = ParityResult.from_dict(d["parity"])
            values["delegation"] = Delegation.from_dict(d["delegation"]) if d.get("delegation") else None
            values["notes"] = list(d.get("notes") or [])
            missing = [k for k in ("model", "target", "precision", "artifact", "preprocessing") if values[k] is None]
            if missing:
                raise KeyError(missing[0])
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
        pre = self.preprocessing
        need(isinstance(pre, dict) and all(isinstance(pre.get(k), list) and len(pre[k]) == 3
                                           and all(isinstance(v, (int, float)) for v in pre[k]) for k in ("mean", "std"))
             and isinstance(pre.get("resize"), dict) and isinstance(pre.get("crop"), dict),
             "preprocessing needs mean/std (3 numbers each), resize and crop")
        need(self.labels is None or (isinstance(self.labels, list) and all(isinstance(v, str) for v in self.labels)),
             "labels must be a list of strings")
        need(self.quantization is None or isinstance(self.quantization, dict), "quantization must be a mapping")

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
