"""Loading and preprocessing images exactly as a model's ``data_config`` says."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import EffmodError
from .data_config import DataConfig

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}

# Real photos bundled inside package wheels we depend on (no downloads). china/flower are the
# photos behind the golden reference logits.
SAMPLE_PHOTOS = (
    ("sklearn.datasets", "images/china.jpg"),
    ("sklearn.datasets", "images/flower.jpg"),
    ("skimage", "data/chelsea.png"),
    ("skimage", "data/coffee.png"),
    ("skimage", "data/astronaut.png"),
    ("skimage", "data/rocket.jpg"),
)

_RESAMPLE = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR, "nearest": Image.NEAREST}


def sample_photo_paths() -> list[Path]:
    return [Path(str(resources.files(pkg).joinpath(rel))) for pkg, rel in SAMPLE_PHOTOS]


def is_unreadable(e: Exception) -> bool:
    """Whether ``e`` from decoding a user's image means the file is unreadable (skipped and counted).
    Truncated or bit-flipped files surface from PIL as many types (OSError, SyntaxError, ValueError,
    EOFError, struct and zlib errors, decompression-bomb errors); only programming errors are not."""
    return not isinstance(e, (NameError, AttributeError, TypeError, KeyboardInterrupt, MemoryError))


def load_rgb(path: str | Path) -> Image.Image:
    """Open any image as 8-bit RGB (grayscale, palette and RGBA converted)."""
    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "P"):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        return im.convert("RGB")


def preprocess(img: Image.Image, data_config: DataConfig) -> np.ndarray:
    """Resize the shorter side to size / crop_pct, center-crop to size, scale to [0, 1],
    normalise with mean/std. Returns float32 [3, H, W]."""
    return normalized_chw(resize_crop(img, data_config), data_config)


def normalized_chw(img: Image.Image, data_config: DataConfig) -> np.ndarray:
    """The pixel half of ``preprocess``: scale to [0, 1], normalise with mean/std, HWC -> CHW."""
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - np.asarray(data_config.mean, np.float32)) / np.asarray(data_config.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def resize_crop(img: Image.Image, data_config: DataConfig) -> Image.Image:
    """The geometric half of ``preprocess``: shorter side to size / crop_pct, then center crop."""
    _, h, w = data_config.input_size
    crop_pct = data_config.crop_pct or 1.0
    scale_size = int(round(max(h, w) / crop_pct))
    iw, ih = img.size
    if iw <= ih:
        nw, nh = scale_size, int(round(ih * scale_size / iw))
    else:
        nw, nh = int(round(iw * scale_size / ih)), scale_size
    img = img.resize((nw, nh), _RESAMPLE[data_config.interpolation or "bicubic"])
    left, top = (nw - w) // 2, (nh - h) // 2
    return img.crop((left, top, left + w, top + h))


def list_images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise EffmodError(f"image folder not found: {folder}", hint="pass an existing directory")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise EffmodError(f"no images (.jpg/.png/.webp/.bmp) under {folder}",
                          hint="point to a folder of images, flat or one sub-folder per class")
    return files


def load_batch(paths: list[Path], data_config: DataConfig, source: str | Path = "the given files") \
        -> tuple[np.ndarray, list[Path], list[Path]]:
    """Preprocess ``paths`` into [N, 3, H, W]; unreadable files are skipped and returned separately."""
    arrays, used, bad = [], [], []
    for p in paths:
        try:
            arrays.append(preprocess(load_rgb(p), data_config))
            used.append(p)
        except Exception as e:  # noqa: BLE001 - an unreadable image is skipped and counted
            if not is_unreadable(e):
                raise
            bad.append(p)
    if not arrays:
        raise EffmodError(f"none of the {len(paths)} images in {source} could be read",
                          hint="check the files are valid images")
    return np.stack(arrays), used, bad


def validation_batch(data_config: DataConfig, folder: str | Path | None = None, limit: int = 16):
    """Images for parity checks: ``folder`` (first ``limit`` files, spread over classes by sorting)
    or the bundled sample photos. Returns (array, description)."""
    if folder is None:
        x, used, _ = load_batch(sample_photo_paths(), data_config)
        return x, f"{len(used)} built-in sample photos"
    paths = list_images(folder)
    step = max(1, len(paths) // limit)
    x, used, bad = load_batch(paths[::step][:limit], data_config, folder)
    note = f" ({len(bad)} unreadable skipped)" if bad else ""
    return x, f"{len(used)} images from {folder}{note}"
