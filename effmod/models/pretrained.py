"""Built-in weights shipped inside the package, addressed by a tag: ``weights="cifar10"``.

A tag resolves to a file in ``effmod/weights/`` written by ``effmod train`` (state dict plus the
data config it was trained with: input size, mean/std, class names). See the model card beside it.

Any weights file ``X.pth`` may have a validation sample beside it, ``X.val/<class>/<image>``: a few
hundred images from the data it was trained for. Parity checks run on it by default, so an artifact
is judged on data that fits its model (``effmod train`` writes one; the built-in weights ship one).
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import EffmodError


@dataclass(frozen=True)
class BuiltinWeights:
    files: dict[str, str]      # model name -> file name in effmod/weights
    dataset: str               # what the weights were trained on, for manifests and messages


BUILTIN_WEIGHTS: dict[str, BuiltinWeights] = {
    "cifar10": BuiltinWeights(files={"efficientmod_xxs": "efficientmod_xxs_cifar10.pth"},
                              dataset="CIFAR-10 (10 classes, 32×32 photos upsampled to 64)"),
}
# What the CLI's default ``--weights auto`` picks for a model (models not listed: random init).
DEFAULT_TAG = {"efficientmod_xxs": "cifar10"}
VALIDATION_SUFFIX = ".val"


def is_tag(weights) -> bool:
    return isinstance(weights, str) and weights in BUILTIN_WEIGHTS


def builtin_path(model: str, tag: str) -> Path:
    files = BUILTIN_WEIGHTS[tag].files
    if model not in files:
        raise EffmodError(f"no built-in '{tag}' weights for {model}",
                          hint=f"'{tag}' exists for {', '.join(files)}; or pass a checkpoint path")
    path = Path(str(resources.files("effmod.weights").joinpath(files[model])))
    if not path.is_file():
        raise EffmodError(f"built-in weights file {files[model]} is missing from this install",
                          hint="reinstall effmod (pip install -e .) from a complete checkout")
    return path


def resolve_weights(model: str, weights: str | Path | None) -> str | Path | None:
    """``auto`` -> the model's default tag (or None); a tag -> its file; anything else unchanged."""
    if weights == "auto":
        weights = DEFAULT_TAG.get(model)
    if weights in (None, "none"):
        return None
    if is_tag(weights):
        return builtin_path(model, weights)
    return weights


def validation_sample_of(weights_file: str | Path) -> Path | None:
    """``X.val/`` beside ``X.pth`` when it holds images, else None."""
    folder = Path(weights_file).with_suffix(VALIDATION_SUFFIX)
    return folder if folder.is_dir() and any(folder.rglob("*.*")) else None
