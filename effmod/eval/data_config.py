"""How to feed a model: input size and preprocessing (``DataConfig``), travelling with the model's
``ModelInfo``, with every manifest, and read by the preprocessing in ``effmod.eval.images``."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from ..errors import EffmodError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names (first WordNet lemma of each synset, in class-index order)."""
    text = resources.files("effmod.data").joinpath("imagenet_labels.txt").read_text()
    return tuple(line.split(",")[0].strip() for line in text.splitlines() if line.strip())


@dataclass(frozen=True)
class DataConfig:
    """Input size and preprocessing: shorter side to size / crop_pct (``interpolation``), center crop,
    pixel / 255, then (x - mean) / std. ``labels`` are the class names in index order, when known."""

    input_size: tuple[int, int, int] = (3, 224, 224)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bicubic"
    crop_pct: float = 0.875
    labels: tuple[str, ...] | None = field(default=None, repr=False)
    dataset: str | None = None         # what the weights were trained on, when known (effmod train records it)

    @property
    def height(self) -> int:
        return self.input_size[1]

    @property
    def width(self) -> int:
        return self.input_size[2]

    @property
    def img_size(self) -> int:
        return self.input_size[-1]

    def with_input_size(self, img_size: int) -> DataConfig:
        if img_size < 32 or img_size % 32:
            raise EffmodError(f"image size {img_size} is not a positive multiple of 32",
                              hint="EfficientMod downsamples by 32; use e.g. 64, 160, 224 or 256")
        return replace(self, input_size=(3, img_size, img_size))

    def with_labels(self, labels) -> DataConfig:
        return replace(self, labels=None if labels is None else tuple(labels))

    def to_dict(self) -> dict:
        """The form stored in checkpoints (``effmod train``) and model cards."""
        return {"input_size": tuple(self.input_size), "mean": tuple(self.mean), "std": tuple(self.std),
                "interpolation": self.interpolation, "crop_pct": self.crop_pct,
                "labels": None if self.labels is None else list(self.labels),
                **({"dataset": self.dataset} if self.dataset else {})}

    @classmethod
    def from_dict(cls, d: dict, base: DataConfig | None = None) -> DataConfig:
        """Keys missing from ``d`` keep ``base``'s values (checkpoints may store a subset)."""
        base = base or cls()
        if not isinstance(d, dict):
            raise EffmodError(f"malformed data config: expected a mapping, got {type(d).__name__}")
        try:
            values = {
                "input_size": tuple(int(v) for v in d.get("input_size", base.input_size)),
                "mean": tuple(float(v) for v in d.get("mean", base.mean)),
                "std": tuple(float(v) for v in d.get("std", base.std)),
                "interpolation": str(d.get("interpolation") or base.interpolation),
                "crop_pct": base.crop_pct if d.get("crop_pct") is None else float(d["crop_pct"]),
                "labels": base.labels if "labels" not in d else (None if d["labels"] is None
                                                                   else tuple(str(v) for v in d["labels"])),
                "dataset": str(d["dataset"]) if d.get("dataset") else base.dataset,
            }
        except (TypeError, ValueError) as e:
            raise EffmodError(f"malformed data config: {e}") from None
        if len(values["input_size"]) != 3 or len(values["mean"]) != 3 or len(values["std"]) != 3:
            raise EffmodError("malformed data config: input_size, mean and std need 3 values each")
        return cls(**values)


def imagenet_data_config(img_size: int = 224, labels: bool = True) -> DataConfig:
    return DataConfig(input_size=(3, img_size, img_size), labels=imagenet_labels() if labels else None)
