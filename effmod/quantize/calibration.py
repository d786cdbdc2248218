"""Calibration images for post-training quantization: a folder (ImageFolder layout or flat,
recursive), sampled deterministically and class-balanced, preprocessed exactly as the model's
data_config says. The file list's hash goes into the manifest."""
from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


from ..errors import EffmodError
from ..eval.data_config import DataConfig
from ..recipe import BUILTIN_CALIBRATION, CalibrationFacts
from ..eval.images import is_unreadable, list_images, load_batch, load_rgb, preprocess, sample_photo_paths

MIN_RECOMMENDED = 100


@dataclass
class CalibrationSet:
    images: np.ndarray                 # [N, 3, H, W] float32, preprocessed
    source: str                        # folder, or "built-in sample photos"
    files: list[str]                   # relative paths actually used
    files_sha256: str                  # hash of the sorted file list
    classes: int | None                # number of class folders when ImageFolder layout
    skipped_unreadable: int = 0
    warnings: list[str] = field(default_factory=list)
    size: int | None = None            # what was asked for (--calib-size), with the seed: enough to redraw it
    seed: int = 0

    BUILTIN = BUILTIN_CALIBRATION

    def facts(self) -> CalibrationFacts:
        """What the recipe records: enough to draw the same images again and prove it."""
        return CalibrationFacts(source=self.source, size=int(self.size or len(self.images)), seed=self.seed,
                                n_images=int(len(self.images)), files_sha256=self.files_sha256, classes=self.classes,
                                skipped_unreadable=self.skipped_unreadable, warnings=tuple(self.warnings))


def _balanced_sample(paths: list[Path], root: Path, size: int, seed: int) -> tuple[list[Path], int | None]:
    """Round-robin over class folders (first-level sub-folders) in a seeded shuffle: every class
    gets its share. A flat folder is a seeded shuffle."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in paths:
        rel = p.relative_to(root)
        groups[rel.parts[0] if len(rel.parts) > 1 else ""].append(p)
    rng = random.Random(seed)
    keys = sorted(groups)
    for k in keys:
        rng.shuffle(groups[k])
    classes = len(keys) if len(keys) > 1 or keys != [""] else None
    picked: list[Path] = []
    depth = 0
    while len(picked) < size and any(depth < len(groups[k]) for k in keys):
        for k in keys:
            if depth < len(groups[k]) and len(picked) < size:
                picked.append(groups[k][depth])
        depth += 1
    return picked, classes


def check_calibration_args(folder: str | Path | None, size: int) -> None:
    """The checks that need no images: run before any work, and again by ``load_calibration``."""
    if size < 1:
        raise EffmodError(f"--calib-size must be at least 1 (got {size})")
    if folder is None:
        return
    root = Path(folder)
    if not root.exists():
        raise EffmodError(f"calibration folder not found: {root}", hint="pass --calib DIR with your images")
    if not root.is_dir():
        raise EffmodError(f"--calib must be a folder of images, got a file: {root}")


def load_calibration(folder: str | Path | None, data_config: DataConfig, size: int = 256, seed: int = 0) -> CalibrationSet:
    check_calibration_args(folder, size)
    if folder is None:
        x, used, _ = load_batch(sample_photo_paths(), data_config)
        names = [p.name for p in used]
        return CalibrationSet(x, CalibrationSet.BUILTIN, names, _hash(names), None, size=size, seed=seed, warnings=[
            f"no --calib folder: calibrating on the {len(used)} built-in sample photos. This is NOT a real "
            "calibration set; INT8 accuracy will be worse than with a few hundred images of your own data"])
    root = Path(folder)
    paths = list_images(root)  # raises one line when there are none
    order, classes = _balanced_sample(paths, root, len(paths), seed)
    arrays, used, bad = [], [], 0
    for p in order:  # the balanced order; unreadable files are replaced by the next ones in it
        if len(used) >= size:
            break
        try:
            arrays.append(preprocess(load_rgb(p), data_config))
            used.append(p)
        except Exception as e:  # noqa: BLE001 - an unreadable image is skipped and counted
            if not is_unreadable(e):
                raise
            bad += 1
    if not used:
        raise EffmodError(f"none of the {len(paths)} image files under {root} could be read",
                          hint="check the files are valid images")
    warnings = []
    if bad:
        warnings.append(f"skipped {bad} unreadable image file(s) under {root}")
    if len(used) < size:
        warnings.append(f"--calib-size {size} asked, but only {len(used)} readable images under {root}; using all")
    if len(used) < MIN_RECOMMENDED:
        warnings.append(f"only {len(used)} calibration images: fewer than {MIN_RECOMMENDED} makes INT8 ranges noisy")
    names = sorted(str(p.relative_to(root)) for p in used)
    return CalibrationSet(np.stack(arrays), str(root.resolve()), names, _hash(names), classes, bad, warnings, size, seed)


def _hash(names: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()
