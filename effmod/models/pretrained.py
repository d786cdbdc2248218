"""Built-in weights shipped inside the package, addressed by a tag: ``weights="cifar10"``.

A tag resolves to a file in ``effmod/weights/`` written by ``effmod train`` (state dict plus the
data config it was trained with: input size, mean/std, class names). See the model card beside it.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import EffmodError

# tag -> {model name: file name in effmod/weights}
BUILTIN_WEIGHTS: dict[str, dict[str, str]] = {
    "cifar10": {"efficientmod_xxs": "efficientmod_xxs_cifar10.pth"},
}
# What the CLI's default ``--weights auto`` picks for a model (models not listed: random init).
DEFAULT_TAG = {"efficientmod_xxs": "cifar10"}


def is_tag(weights) -> bool:
    return isinstance(weights, str) and weights in BUILTIN_WEIGHTS


def builtin_path(model: str, tag: str) -> Path:
    files = BUILTIN_WEIGHTS[tag]
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
