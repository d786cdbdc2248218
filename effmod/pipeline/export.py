"""Export: model -> deploy form -> artifact -> parity in its real runtime -> manifest, renamed into place.

``run_export`` loads the model once and calls ``export_one`` per (target, precision); the sweep calls
``export_one`` directly."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import torch

from .. import __version__
from ..console import Reporter
from ..cost import CostReport
from ..manifest import Manifest, Preprocessing, Versions, artifact_bytes, artifact_sha256
from ..parity import ParityResult
from ..placement import check_output, clean_stale_temp, place_artifact, temp_dir
from ..precision import Precision
from ..targets import Target
from .build import Built, build_artifact
from .inputs import ExportInputs, load_model, prepare_inputs
from .options import ExportOptions, artifact_name, check_quant_options, recipe_for, resolve_targets
from .arm64 import Arm64Inputs, attach, check_arm64, prepare
from .parity_check import artifact_outputs, run_parity, simulated_reference


def cost_report(target: Target, built: Built, reporter: Reporter) -> CostReport | None:
    """The artifact's cost report; a reader that fails costs the manifest its report, not the export."""
    try:
        return target.cost_of(built.artifact, built.result.cost)
    except Exception as e:  # noqa: BLE001 - any reader error: said, and the export goes on
        reporter.warn(f"{target.name}: no cost report ({type(e).__name__}: {e})")
        return None


def build_manifest(model, target: Target, built: Built, parity: ParityResult,
                   cost: CostReport | None = None) -> Manifest:
    """The manifest of a built, checked artifact: made once, from what the build and parity returned."""
    info, result, artifact = model.info, built.result, built.artifact
    weights = info.weights
    return Manifest(
        model=info.name, num_classes=info.num_classes, target=target.name, precision=built.recipe.precision,
        artifact=artifact.name, artifact_bytes=artifact_bytes(artifact), artifact_sha256=artifact_sha256(artifact),
        weights=weights.source if weights else None, weights_sha256=weights.sha256 if weights else None,
        trained=weights is not None, deploy_form=built.deploy_report, input=result.input, output=result.output,
        preprocessing=Preprocessing.of(info.data_config),
        labels=list(info.data_config.labels) if info.data_config.labels else None,
        versions=Versions(torch.__version__, result.converter, result.runtime, __version__),
        parity=parity, delegation=result.delegation, notes=result.notes, export_seconds=round(built.seconds, 2),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), recipe=built.recipe, cost=cost)


def _calib_request(opts: ExportOptions, precisions) -> tuple[str | None, int, int] | None:
    return (opts.calib, opts.calib_size, opts.seed) if "int8" in precisions else None


def export_one(model: torch.nn.Module, target: Target, precision: Precision, opts: ExportOptions,
               reporter: Reporter, inputs: ExportInputs | None = None) -> Manifest:
    """Export ``model`` (an EfficientMod with its ``info``) for one target and precision into
    ``opts.output``: convert in a build folder, run parity in the real runtime, write the manifest,
    rename both into place. ``inputs`` (parity images, calibration) are made here when not given."""
    inputs = inputs or prepare_inputs(model, opts.validate_data, _calib_request(opts, [precision]), reporter)
    recipe = recipe_for(opts, target, precision)
    name = artifact_name(opts.model, model.info.data_config.img_size, target, recipe)
    out_dir = Path(opts.output)
    tmp_root = temp_dir(out_dir)
    try:
        built = build_artifact(model, target, recipe, inputs, name, tmp_root, reporter,
                               opts.fallback_sqnr if opts.auto_fallback else None)
        with reporter.stage(f"{target.name}: parity"):
            simulated, sim_desc = simulated_reference(target, built.result, built.artifact, inputs.x_val, opts.threads)
            parity = run_parity(built.artifact, built.result.input, inputs.validation, inputs.reference, precision,
                                target, opts.thresholds, opts.threads, simulated, sim_desc)
        for note in parity.host_notes:
            reporter.note(f"{target.name}: {note}")
        if opts.arm64 is not None:
            x86, _ = artifact_outputs(built.artifact, built.result.input, inputs.x_val, opts.threads)
            attach(parity, check_arm64(prepare(target, built.artifact, opts.arm64, reporter), target, built.artifact,
                                       built.result.input, precision,
                                       Arm64Inputs(inputs.validation, inputs.reference, x86, simulated, sim_desc),
                                       opts.arm64, reporter, opts.thresholds))
        manifest = build_manifest(model, target, built, parity, cost_report(target, built, reporter))
        manifest.write(built.artifact)
        place_artifact(built.artifact, out_dir / name)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    manifest.path = str(out_dir / name)
    reporter.artifact_done(manifest)
    return manifest


def run_export(opts: ExportOptions, reporter: Reporter) -> list[Manifest]:
    """Export every requested target. A failed parity check does not stop the run: the artifact is
    kept and its manifest says ``parity.status == "failed"`` (the CLI then exits 2)."""
    pairs = resolve_targets(opts.targets, opts.precision)
    check_quant_options(opts, pairs)
    for target, _ in pairs if opts.arm64 is not None else ():
        prepare(target, Path(f"{opts.model}{target.suffix}"), opts.arm64, reporter)  # refused before any work
    with reporter.stage("load model"):
        model = load_model(opts.model, opts.weights, opts.num_classes, opts.img_size)
    # The weights decide the defaults (a CIFAR-10 model is 10 classes at 64 px).
    info = model.info
    img = info.data_config.img_size
    out = Path(opts.output)
    check_output(out, [artifact_name(opts.model, img, t, recipe_for(opts, t, p)) for t, p in pairs], opts.force)
    stale = clean_stale_temp(out)
    if stale:
        reporter.note(f"removed {stale} build folder(s) left in {opts.output} by an interrupted run")
    for note in info.load_notes:
        reporter.warn(note)
    if info.weights is None:
        reporter.warn(f"no weights: {opts.model} has random, untrained weights "
                      "(the artifact is structurally real but classifies nothing); pass --weights")
    elif info.weights.is_builtin:
        reporter.note(f"built-in weights '{info.weights.source}': {info.num_classes} classes at {img} px")
    inputs = prepare_inputs(model, opts.validate_data, _calib_request(opts, [p for _, p in pairs]), reporter)
    return [export_one(model, target, precision, opts, reporter, inputs) for target, precision in pairs]
