"""Data configs that travel with a model (timm-style): input size, normalisation, resize, labels."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names (first WordNet lemma of each synset, in class-index order)."""
    text = resources.files("effmod.data").joinpath("imagenet_labels.txt").read_text()
    return tuple(line.split(",")[0].strip() for line in text.splitlines() if line.strip())


def imagenet_data_config(img_size: int = 224, labels: bool | None = True) -> dict:
    return {
        "input_size": (3, img_size, img_size),
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "interpolation": "bicubic",
        "crop_pct": 0.875,
        "labels": list(imagenet_labels()) if labels else None,
    }


def with_input_size(data_config: dict, img_size: int) -> dict:
    if img_size % 32:
        from ..errors import EffmodError

        raise EffmodError(f"image size {img_size} is not a multiple of 32",
                          hint="EfficientMod downsamples by 32; use e.g. 64, 160, 224 or 256")
    return {**data_config, "input_size": (3, img_size, img_size)}
