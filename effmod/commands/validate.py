"""``effmod validate``: re-run an artifact's parity check in its runtime, from the PyTorch side.

fp32/fp16 artifacts are compared with the PyTorch model named in the manifest. A quantized artifact is
compared with a simulated quantized reference that is *rebuilt* from PyTorch with the manifest's recipe
(same deploy form, calibration images, float islands), so a changed or broken artifact cannot vouch for
itself. The rebuild takes about as long as the export did."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..console import NullReporter, Reporter
from ..errors import EffmodError
from ..manifest import Manifest, artifact_sha256
from ..models import create_model
from ..parity import ParityResult
from ..precision import is_quantized
from ..quantize import load_calibration
from ..targets import Target, for_artifact
from .export import ExportInputs, ExportOptions, ValidationData, build_artifact, check_artifact, simulated_reference


def rebuild_simulated_reference(net: torch.nn.Module, target: Target, manifest: Manifest, validation: ValidationData,
                                reference: np.ndarray, calib: str | None, reporter: Reporter) -> tuple[np.ndarray, str]:
    """Convert the PyTorch model again with the recipe the manifest records and return its simulated
    quantized reference's outputs on the validation images."""
    q = manifest.quantization or {}
    cal = q.get("calibration") or {}
    source = calib or (cal.get("source") if cal.get("source") not in (None, "built-in sample photos") else None)
    if manifest.precision == "int8" and source is not None and not Path(source).is_dir():
        raise EffmodError(f"rebuilding the INT8 reference needs the calibration images the export used ({source}), "
                          "which are not here", hint="pass --calib DIR with the same images")
    opts = ExportOptions(targets=[target.name], model=manifest.model, precision=manifest.precision,
                         deploy_form=manifest.deploy_form is not None,
                         image_input=manifest.input.dtype == "image_rgb",
                         dynamic_batch=manifest.input.shape[0] == "batch", calib=source,
                         calib_size=cal.get("size") or cal.get("n_images") or 256, seed=cal.get("seed", 0),
                         keep_float=[*q.get("keep_float", []), *((q.get("auto_fallback") or {}).get("kept_float", []))],
                         io=q.get("io", "float"))
    inputs = ExportInputs(validation, reference)
    if manifest.precision == "int8":
        with reporter.stage("calibration images (as the export drew them)"):
            inputs.calib = load_calibration(opts.calib, net.info.data_config, opts.calib_size, opts.seed)
        if cal.get("files_sha256") and inputs.calib.files_sha256 != cal["files_sha256"]:
            raise EffmodError(f"the calibration images in {source or 'the built-in photos'} are not the ones the "
                              "export used (their file list hash differs)",
                              hint="pass --calib DIR with the export's calibration images")
    build_dir = Path(tempfile.mkdtemp(prefix=".effmod-validate-"))
    try:
        built = build_artifact(net, target, manifest.precision, opts, reporter, inputs, build_dir)
        with reporter.stage("simulated quantized reference"):
            out, desc = simulated_reference(target, built.result, built.artifact, validation.x)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    if out is None:
        raise EffmodError(f"{target.name} {manifest.precision} has no simulated quantized reference to validate against")
    return out, f"{desc}, rebuilt from PyTorch with the manifest's recipe"


def validate_artifact(artifact: str, model: str | None = None, weights: str | None = None,
                      num_classes: int | None = None, data: str | None = None, threads: int | None = None,
                      calib: str | None = None, overrides: dict | None = None,
                      reporter: Reporter | None = None) -> ParityResult:
    from .export import validation_data

    reporter = reporter or NullReporter()
    path = Path(artifact)
    target = for_artifact(path)
    manifest = Manifest.read(path)
    model = model or (manifest.model if manifest else None)
    if model is None:
        raise EffmodError(f"no manifest beside {artifact} to say which model it is", hint="pass --model (and --weights)")
    if not path.exists():
        raise EffmodError(f"artifact not found: {artifact}")
    weights = weights or (manifest.weights if manifest else None)
    num_classes = num_classes or (manifest.num_classes if manifest else None) or 1000
    img_size = manifest.input.shape[2] if manifest else 224
    with reporter.stage("load model and reference outputs"):
        net = create_model(model, num_classes=num_classes, weights=weights, img_size=img_size)
        validation = validation_data(net, data)
        with torch.no_grad():
            reference = net(torch.from_numpy(validation.x)).numpy()
    precision = manifest.precision if manifest else "fp32"
    simulated = desc = None
    if is_quantized(precision):
        if manifest is None:
            raise EffmodError(f"{artifact} has no manifest: a quantized artifact is validated against a reference "
                              "rebuilt with its recipe, which the manifest records", hint="re-export it with effmod")
        simulated, desc = rebuild_simulated_reference(net, target, manifest, validation, reference, calib, reporter)
    with reporter.stage(f"{target.name}: parity"):
        result = check_artifact(path, manifest.input if manifest else None, validation, reference, precision, target,
                                overrides, threads, simulated, desc)
    if manifest and manifest.artifact_sha256:
        result.artifact_sha256_matches_manifest = artifact_sha256(path) == manifest.artifact_sha256
        if not result.artifact_sha256_matches_manifest:
            result.fail("the artifact changed since export: its sha256 differs from its manifest's")
    return result
