"""Labelled ImageFolder data (``root/<class>/<image>``), decoded once into a uint8 tensor.

Training and sweeps both read whole small datasets (CIFAR-10: 60k images of 32×32): decoding each
JPEG once into memory is much faster than a DataLoader with workers on a 2-core host.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..errors import EffmodError
from .data_config import DataConfig
from .images import IMAGE_SUFFIXES, is_unreadable, load_rgb, resize_crop


@dataclass
class LabelledImages:
    """``images``: uint8 [N, 3, H, W] after the data config's resize/crop; ``labels``: int64 [N]."""

    root: Path
    classes: list[str]
    images: torch.Tensor
    labels: torch.Tensor
    paths: list[Path]
    unreadable: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def normalized(self, idx, data_config: DataConfig) -> torch.Tensor:
        """float32 batch exactly as ``effmod.eval.images.preprocess`` would produce it."""
        return normalize(self.images[idx], data_config)


def normalize(images_u8: torch.Tensor, data_config: DataConfig) -> torch.Tensor:
    mean = torch.tensor(data_config.mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(data_config.std, dtype=torch.float32).view(1, 3, 1, 1)
    return (images_u8.float() / 255.0 - mean) / std


def list_image_folder(root: str | Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Classes (sorted sub-folder names, as torchvision's ImageFolder) and (path, class index) pairs."""
    root = Path(root)
    if not root.is_dir():
        raise EffmodError(f"data folder not found: {root}", hint="pass a folder with one sub-folder per class")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise EffmodError(f"{root} has no class sub-folders",
                          hint="arrange images as ROOT/<class>/<image>.jpg (ImageFolder layout)")
    samples = []
    for idx, name in enumerate(classes):
        files = sorted(p for p in (root / name).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        samples += [(p, idx) for p in files]
    if not samples:
        raise EffmodError(f"no images (.jpg/.png/.webp/.bmp) in the class folders of {root}",
                          hint="arrange images as ROOT/<class>/<image>.jpg (ImageFolder layout)")
    return classes, samples


def check_classes(found: list[str], expected: list[str] | None, what: str) -> None:
    """One clear error when a folder's classes are not the model's (order matters: it is the label index)."""
    if expected is None or list(found) == list(expected):
        return
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if not missing and not extra:
        detail = "same names in another order"
    else:
        detail = "; ".join(filter(None, [f"missing {missing[:5]}" if missing else "",
                                         f"unexpected {extra[:5]}" if extra else ""]))
    raise EffmodError(
        f"{what} has {len(found)} classes that do not match the model's {len(expected)} ({detail})",
        hint="use a folder with exactly the model's class sub-folders, or a model/--num-classes trained on it",
    )


def load_labelled_images(root: str | Path, data_config: DataConfig, limit: int | None = None,
                         progress: Callable[[int, int], None] | None = None,
                         expected_classes: list[str] | None = None) -> LabelledImages:
    """Decode an ImageFolder tree into memory. ``limit`` keeps a class-balanced, deterministic subset
    (every k-th image); unreadable files are skipped and listed in ``unreadable``."""
    classes, samples = select_samples(root, limit, expected_classes)
    images, labels, paths, bad = decode_samples(samples, data_config, progress)
    if not labels:
        raise EffmodError(f"none of the {len(samples)} images under {root} could be read",
                          hint="check the files are valid images")
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    return LabelledImages(Path(root), classes, tensor, torch.tensor(labels, dtype=torch.int64), paths, bad)


def select_samples(root: str | Path, limit: int | None = None, expected_classes: list[str] | None = None) \
        -> tuple[list[str], list[tuple[Path, int]]]:
    """Classes and the (path, label) pairs to use: with ``limit``, a class-balanced, deterministic subset
    (every k-th image of the sorted listing), the same on every machine that sees the folder."""
    classes, samples = list_image_folder(root)
    check_classes(classes, expected_classes, str(root))
    if limit is not None and limit < len(samples):
        step = len(samples) / limit
        samples = [samples[int(i * step)] for i in range(limit)]
    return classes, samples


def decode_samples(samples: list[tuple[Path, int]], data_config: DataConfig,
                   progress: Callable[[int, int], None] | None = None) \
        -> tuple[np.ndarray, list[int], list[Path], list[Path]]:
    """uint8 NHWC images after the data config's resize/crop, their labels and paths; unreadable files
    are skipped and returned last."""
    _, h, w = data_config.input_size
    images = np.empty((len(samples), h, w, 3), dtype=np.uint8)
    labels, paths, bad = [], [], []
    for i, (path, label) in enumerate(samples):
        try:
            images[len(labels)] = np.asarray(resize_crop(load_rgb(path), data_config), dtype=np.uint8)
            labels.append(label)
            paths.append(path)
        except Exception as e:  # noqa: BLE001 - an unreadable image is skipped and counted
            if not is_unreadable(e):
                raise
            bad.append(path)
        if progress is not None and (i % 500 == 0 or i == len(samples) - 1):
            progress(i + 1, len(samples))
    return images[: len(labels)], labels, paths, bad
