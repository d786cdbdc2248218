"""EfficientMod models: ``create_model(name, num_classes, weights)`` and ``list_models()``."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch.nn as nn

from . import efficientmod  # noqa: F401  (registers the variants)
from ._registry import get_builder, list_models, register_model
from .checkpoint import file_sha256, load_into, read_state_dict
from .config import imagenet_data_config, imagenet_labels, with_input_size

__all__ = ["create_model", "list_models", "register_model", "imagenet_labels", "imagenet_data_config"]


def create_model(name: str, num_classes: int = 1000, weights: str | Path | None = None,
                 img_size: int | None = None, **kwargs) -> nn.Module:
    """Build an EfficientMod variant, optionally loading ``weights`` (a checkpoint path).

    The model is returned in eval mode with ``model.data_config`` (preprocessing) and
    ``model.weights_info`` (source path and sha256, or None for untrained weights).
    """
    model = get_builder(name)(num_classes=num_classes, **kwargs)
    model.weights_info = None
    if weights is not None:
        path = Path(weights)
        for note in load_into(model, read_state_dict(path), source=str(path)):
            warnings.warn(note, stacklevel=2)
        model.weights_info = {"source": str(path), "sha256": file_sha256(path)}
    if img_size is not None:
        model.data_config = with_input_size(model.data_config, img_size)
    return model.eval()
