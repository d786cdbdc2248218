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
from ..parity import ParityResult, judge_rebuild
from ..precision import is_quantized
from ..targets import Target, for_artifact, load_runner
from .export import (ExportInputs, ExportOptions, ValidationData, build_artifact, check_artifact, run_artifact,
                     simulated_reference)
from .recipe import recorded_calibration, recorded_keep_float


def rebuild_simulated_reference(net: torch.nn.Module, target: Target, manifest: Manifest, validation: ValidationData,
                                reference: np.ndarray, calib: str | None, reporter: Reporter,
                                threads: int | None = None) -> tuple[np.ndarray, str, np.ndarray]:
    """Convert the PyTorch model again with the recipe the manifest records; return its simulated
    quantized reference's outputs on the validation images, what that is, and the rebuilt artifact's own
    outputs in the real runtime (the rebuild gate compares the artifact with them)."""
    q = manifest.quantization or {}
    calib_set = recorded_calibration(manifest, net.info.data_config, calib) if manifest.precision == "int8" else None
    opts = ExportOptions(targets=[target.name], model=manifest.model, precision=manifest.precision,
                         deploy_form=manifest.deploy_form is not None,
                         image_input=manifest.input.dtype == "image_rgb",
                         dynamic_batch=manifest.input.shape[0] == "batch",
                         keep_float=recorded_keep_float(manifest), io=q.get("io", "float"))
    inputs = ExportInputs(validation, reference, calib_set)
    build_dir = Path(tempfile.mkdtemp(prefix=".effmod-validate-"))
    try:
        built = build_artifact(net, target, manifest.precision, opts, reporter, inputs, build_dir)
        with reporter.stage("simulated quantized reference"):
            out, desc = simulated_reference(target, built.result, built.artifact, validation.x)
        with reporter.stage(f"{target.name}: the rebuilt artifact"):
            rebuilt = run_artifact(load_runner(built.artifact, threads=threads, input_spec=built.result.input),
                                   validation.x)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    if out is None:
        raise EffmodError(f"{target.name} {manifest.precision} has no simulated quantized reference to validate against")
    return out, f"{desc}, rebuilt from PyTorch with the manifest's recipe", rebuilt


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
    simulated = desc = rebuilt = None
    if is_quantized(precision):
        if manifest is None:
            raise EffmodError(f"{artifact} has no manifest: a quantized artifact is validated against a reference "
                              "rebuilt with its recipe, which the manifest records", hint="re-export it with effmod")
        simulated, desc, rebuilt = rebuild_simulated_reference(net, target, manifest, validation, reference, calib,
                                                               reporter, threads)
    with reporter.stage(f"{target.name}: parity"):
        result = check_artifact(path, manifest.input if manifest else None, validation, reference, precision, target,
                                overrides, threads, simulated, desc)
    if rebuilt is not None:
        runner = load_runner(path, threads=threads, input_spec=manifest.input)
        result.rebuild = judge_rebuild(run_artifact(runner, validation.x), rebuilt, runner.engine)
        for f in result.rebuild.failures:
            result.fail(f"rebuild: {f} (the artifact is not what its recipe builds from PyTorch)")
    if manifest and manifest.artifact_sha256:
        result.artifact_sha256_matches_manifest = artifact_sha256(path) == manifest.artifact_sha256
        if not result.artifact_sha256_matches_manifest:
            result.fail("the artifact changed since export: its sha256 differs from its manifest's")
    return result
