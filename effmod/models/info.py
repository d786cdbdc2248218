"""Typed records that travel with a model (timm's pretrained config, in spirit): how to feed it
(``DataConfig``), where its weights came from (``WeightsInfo``), and both together (``ModelInfo``).

``reparameterize`` and every exporter pass ``model.info`` along as one object."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..eval.data_config import IMAGENET_MEAN, IMAGENET_STD, DataConfig, imagenet_data_config, imagenet_labels

__all__ = ["DataConfig", "ModelInfo", "WeightsInfo", "imagenet_data_config", "imagenet_labels", "IMAGENET_MEAN",
           "IMAGENET_STD"]


@dataclass(frozen=True)
class WeightsInfo:
    source: str          # what the user asked for: a path or a built-in tag ("cifar10")
    file: str            # the file read
    sha256: str

    @property
    def is_builtin(self) -> bool:
        return self.source != self.file


@dataclass(frozen=True)
class ModelInfo:
    name: str                          # registry name, e.g. "efficientmod_xxs_bn"
    num_classes: int
    data_config: DataConfig
    weights: WeightsInfo | None = None  # None: random, untrained weights
    load_notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. "head left at its initialisation"
    # in-distribution images that travel with the weights (X.val/ beside X.pth): parity's default data
    validation_sample: Path | None = None

    def replace(self, **changes) -> ModelInfo:
        return replace(self, **changes)
