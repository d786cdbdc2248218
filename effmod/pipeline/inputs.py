"""What every target of one run shares: the model, the parity images (and whether they fit the model),
PyTorch's outputs on them, and the calibration set for INT8."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..console import Reporter
from ..eval.images import validation_batch
from ..models import create_model
from ..quantize import CalibrationSet

VALIDATION_LIMIT = 200  # images parity runs on, at most


@dataclass(frozen=True)
class ValidationData:
    """The images parity runs on, and whether they fit the model (which decides if quality is judged)."""

    x: np.ndarray
    description: str
    in_distribution: bool
    path: str | None = None            # the folder, or None for the built-in photos


@dataclass(frozen=True)
class ExportInputs:
    """The parity images, PyTorch's outputs on them, an example input and the calibration set (INT8 only)."""

    validation: ValidationData
    reference: np.ndarray
    calib: CalibrationSet | None = None

    @property
    def x_val(self) -> np.ndarray:
        return self.validation.x

    @property
    def example(self) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(self.x_val[:1]))


def load_model(name: str, weights: str | None, num_classes: int | None = None,
               img_size: int | None = None) -> torch.nn.Module:
    """The model with its weights; load notes land in ``model.info.load_notes`` (not as warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return create_model(name, num_classes=num_classes, weights=weights, img_size=img_size)


def validation_data(model: torch.nn.Module, folder: str | None) -> ValidationData:
    """``folder`` when given; else the validation sample that travels with the weights; else the
    built-in photos, which fit only ImageNet-class models."""
    info = model.info
    dc = info.data_config
    if folder is not None:
        check_folder_classes(folder, dc)
        x, desc = validation_batch(dc, folder, limit=VALIDATION_LIMIT)
        return ValidationData(x, desc + " (--validate-data)", True, str(folder))
    if info.validation_sample is not None:
        x, _ = validation_batch(dc, info.validation_sample, limit=VALIDATION_LIMIT)
        return ValidationData(x, f"{len(x)} images of the validation sample that travels with the weights "
                                 f"({info.validation_sample.name})", True, str(info.validation_sample))
    x, desc = validation_batch(dc, None)
    fits = info.num_classes == 1000 and info.weights is not None  # natural photos fit an ImageNet classifier
    return ValidationData(x, desc, fits, None)


def check_folder_classes(folder: str | Path, dc) -> None:
    """A folder with class sub-folders must have the model's classes (by name) when the model knows them."""
    from ..eval.datasets import check_classes

    root = Path(folder)
    subdirs = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")) if root.is_dir() else []
    if subdirs and dc.labels and len(subdirs) > 1:
        check_classes(subdirs, list(dc.labels), str(root))


def reference_outputs(model: torch.nn.Module, validation: ValidationData) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(validation.x)).numpy()


def prepare_inputs(model: torch.nn.Module, validate_data: str | None, calib: tuple[str | None, int, int] | None,
                   reporter: Reporter) -> ExportInputs:
    """Parity images and PyTorch's outputs; ``calib`` (folder, size, seed) when a precision is INT8."""
    with reporter.stage("reference outputs"):
        validation = validation_data(model, validate_data)
        reference = reference_outputs(model, validation)
    if not validation.in_distribution:
        reporter.warn(f"parity runs on {validation.description}, which do not fit a {model.info.num_classes}-class "
                      "model: quality is reported, not judged (pass --validate-data DIR with images of its classes)")
    calib_set = None
    if calib is not None:
        from ..quantize import load_calibration

        with reporter.stage("calibration images"):
            calib_set = load_calibration(calib[0], model.info.data_config, calib[1], calib[2])
        for w in calib_set.warnings:
            reporter.warn(w)
    return ExportInputs(validation, reference, calib_set)
