"""Rebuild an artifact's conversion from PyTorch with the recipe its manifest records: validate compares
the artifact with the rebuild and with its simulated quantized reference, debug rebuilds it with block
outputs exposed. The calibration images are drawn again the same way and checked by their hash."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..console import Reporter
from ..errors import EffmodError
from ..eval.data_config import DataConfig
from ..manifest import Manifest
from ..quantize import CalibrationSet, load_calibration
from ..targets import Target, load_runner
from .build import build_artifact
from .inputs import ExportInputs, ValidationData
from .parity_check import run_artifact, simulated_reference


def recorded_calibration(manifest: Manifest, data_config: DataConfig, calib: str | None) -> CalibrationSet:
    """The calibration images the export drew, drawn again the same way (folder, size, seed) and checked
    by their file-list hash. ``calib`` replaces a folder that moved."""
    facts = manifest.recipe.calibration
    if facts is None:
        raise EffmodError(f"{manifest.artifact}'s manifest does not record its calibration images well enough to draw "
                          "them again (it predates effmod's recipe records)",
                          hint="re-export the artifact with this effmod to validate or debug it")
    recorded = facts.source if facts.source != CalibrationSet.BUILTIN else None
    source = calib or recorded
    if source is not None and not Path(source).is_dir():
        raise EffmodError(f"rebuilding {manifest.artifact}'s INT8 recipe needs the calibration images its export "
                          f"used ({source}), which are not here", hint="pass --calib DIR with the same images")
    images = load_calibration(source, data_config, facts.size, facts.seed)
    if images.files_sha256 != facts.files_sha256:
        raise EffmodError(f"the calibration images in {source or 'the built-in photos'} are not the ones "
                          f"{manifest.artifact}'s export used (their file-list hash differs)",
                          hint="pass --calib DIR with the export's calibration images")
    return images


def rebuild_simulated_reference(net: torch.nn.Module, target: Target, manifest: Manifest, validation: ValidationData,
                                reference: np.ndarray, calib: str | None, reporter: Reporter,
                                threads: int | None = None) -> tuple[np.ndarray, str, np.ndarray]:
    """Convert the PyTorch model again with the manifest's recipe; return its simulated quantized
    reference's outputs on the validation images, what that is, and the rebuilt artifact's own outputs
    in the real runtime (the rebuild gate compares the artifact with them)."""
    recipe = manifest.recipe
    calib_set = recorded_calibration(manifest, net.info.data_config, calib) if recipe.precision == "int8" else None
    inputs = ExportInputs(validation, reference, calib_set)
    build_dir = Path(tempfile.mkdtemp(prefix=".effmod-validate-"))
    try:
        built = build_artifact(net, target, recipe, inputs, f"rebuilt{target.suffix}", build_dir, reporter)
        with reporter.stage("simulated quantized reference"):
            out, desc = simulated_reference(target, built.result, built.artifact, validation.x)
        with reporter.stage(f"{target.name}: the rebuilt artifact"):
            rebuilt = run_artifact(load_runner(built.artifact, threads=threads, input_spec=built.result.input),
                                   validation.x)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    if out is None:
        raise EffmodError(f"{target.name} {recipe.precision} has no simulated quantized reference to validate against")
    return out, f"{desc}, rebuilt from PyTorch with the manifest's recipe", rebuilt
