"""EfficientMod models: ``create_model(name, num_classes, weights)`` and ``list_models()``."""
from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import torch.nn as nn

from ..errors import EffmodError
from . import efficientmod  # noqa: F401  (registers the variants)
from ._registry import get_builder, list_models, register_model
from .checkpoint import file_sha256, load_into, read_checkpoint
from .info import DataConfig, ModelInfo, WeightsInfo, imagenet_data_config, imagenet_labels
from .pretrained import BUILTIN_WEIGHTS, DEFAULT_TAG, is_tag, resolve_weights, validation_sample_of

__all__ = ["create_model", "list_models", "register_model", "imagenet_labels", "imagenet_data_config",
           "DataConfig", "ModelInfo", "WeightsInfo"]


def create_model(name: str, num_classes: int | None = None, weights: str | Path | None = None,
                 img_size: int | None = None, **kwargs) -> nn.Module:
    """Build an EfficientMod variant, optionally loading ``weights``: a checkpoint path, a built-in
    tag (``"cifar10"``), ``"auto"`` (the model's built-in default, if any) or None/``"none"``.

    ``num_classes`` and the data config (input size, mean/std, labels) default to what the weights
    were trained with when the file records it (effmod-trained files do), else 1000 classes at 224.
    The model is returned in eval mode with ``model.info`` (a ``ModelInfo``: name, classes, data
    config, weights source/file/sha256 or None for untrained weights, and load notes).
    """
    if weights == "auto":
        weights = DEFAULT_TAG.get(name)
    if num_classes is not None and num_classes < 1:
        raise EffmodError(f"--num-classes must be a positive number of classes (got {num_classes})")
    path = resolve_weights(name, weights)
    state, meta = read_checkpoint(path) if path is not None else ({}, {})
    trained_classes = meta.get("num_classes")
    if num_classes is None:
        num_classes = trained_classes or 1000
    model = get_builder(name)(num_classes=num_classes, **kwargs)
    info = model.info
    if path is not None:
        source = str(weights) if is_tag(weights) else str(path)
        notes = load_into(model, state, source=source)
        for note in notes:
            warnings.warn(note, stacklevel=2)
        info = info.replace(weights=WeightsInfo(source=source, file=str(path), sha256=file_sha256(path)),
                            load_notes=tuple(notes), validation_sample=validation_sample_of(path))
        if meta.get("data_config") and num_classes == trained_classes:
            try:
                info = info.replace(data_config=DataConfig.from_dict(meta["data_config"], base=info.data_config))
            except EffmodError as e:
                raise EffmodError(f"{path}: {e.message}", hint="re-save the checkpoint with effmod train") from None
        if is_tag(weights) and not info.data_config.dataset:
            info = info.replace(data_config=replace(info.data_config, dataset=BUILTIN_WEIGHTS[weights].dataset))
        if notes:
            info = info.replace(validation_sample=None)  # a new head: the sample's classes no longer apply
    if img_size is not None:
        info = info.replace(data_config=info.data_config.with_input_size(img_size))
    model.info = info
    return model.eval()
