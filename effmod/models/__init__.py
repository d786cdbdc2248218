"""EfficientMod models: ``create_model(name, num_classes, weights)`` and ``list_models()``."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch.nn as nn

from . import efficientmod  # noqa: F401  (registers the variants)
from ._registry import get_builder, list_models, register_model
from .checkpoint import file_sha256, load_into, read_checkpoint
from .config import imagenet_data_config, imagenet_labels, with_input_size
from .pretrained import DEFAULT_TAG, is_tag, resolve_weights

__all__ = ["create_model", "list_models", "register_model", "imagenet_labels", "imagenet_data_config"]


def create_model(name: str, num_classes: int | None = None, weights: str | Path | None = None,
                 img_size: int | None = None, **kwargs) -> nn.Module:
    """Build an EfficientMod variant, optionally loading ``weights``: a checkpoint path, a built-in
    tag (``"cifar10"``), ``"auto"`` (the model's built-in default, if any) or None/``"none"``.

    ``num_classes`` and the data config (input size, mean/std, labels) default to what the weights
    were trained with when the file records it (effmod-trained files do), else 1000 classes at 224.
    The model is returned in eval mode with ``model.data_config`` and ``model.weights_info`` (source,
    file and sha256, or None for untrained weights).
    """
    if weights == "auto":
        weights = DEFAULT_TAG.get(name)
    path = resolve_weights(name, weights)
    state, meta = read_checkpoint(path) if path is not None else ({}, {})
    trained_classes = meta.get("num_classes")
    if num_classes is None:
        num_classes = trained_classes or 1000
    model = get_builder(name)(num_classes=num_classes, **kwargs)
    model.weights_info = None
    if path is not None:
        for note in load_into(model, state, source=str(weights if is_tag(weights) else path)):
            warnings.warn(note, stacklevel=2)
        source = weights if is_tag(weights) else str(path)
        model.weights_info = {"source": source, "file": str(path), "sha256": file_sha256(path)}
        if meta.get("data_config") and num_classes == trained_classes:
            model.data_config = {**model.data_config, **meta["data_config"]}
            model.data_config["input_size"] = tuple(model.data_config["input_size"])
    if img_size is not None:
        model.data_config = with_input_size(model.data_config, img_size)
    return model.eval()
