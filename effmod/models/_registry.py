"""Model registry: names -> builder functions, in the style of timm's ``register_model``."""
from __future__ import annotations

from typing import Callable

import torch.nn as nn

from ..errors import EffmodError

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    _MODELS[fn.__name__] = fn
    return fn


def list_models() -> list[str]:
    return sorted(_MODELS)


def get_builder(name: str) -> Callable[..., nn.Module]:
    try:
        return _MODELS[name]
    except KeyError:
        raise EffmodError(
            f"unknown model '{name}'",
            hint="valid names: " + ", ".join(list_models()),
        ) from None
