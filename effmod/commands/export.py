"""``effmod-export``: model -> deploy form -> artifact -> parity -> manifest, as a linear driver.

``run_export`` loads the model once and calls ``export_one`` per (target, precision); the sweep calls
``export_one`` directly."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from .. import __version__
from ..console import Reporter
from ..deploy import reparameterize
from ..errors import EffmodError
from ..eval.images import validation_batch
from ..manifest import Manifest, artifact_bytes, artifact_sha256, preprocessing
from ..models import create_model
from ..parity import ParityResult, judge
from ..precision import Precision
from ..quantize import CalibrationSet
from ..targets import TARGETS, ExportJob, Target, TargetResult, by_name, for_artifact, load_runner


@dataclass
class ExportOptions:
    targets: list[str]
    model: str = "efficientmod_xxs"
    weights: str | None = None           # path, built-in tag ("cifar10"), "auto" or None (random init)
    num_classes: int | None = None        # None: from the weights (effmod-trained files), else 1000
    img_size: int | None = None           # None: from the weights' data config, else 224
    precision: Precision | None = None    # None: each target's default (Core ML fp16, others fp32)
    deploy_form: bool = True
    image_input: bool = False
    output: str = "effmod-out"
    validate_data: str | None = None
    force: bool = False
    dynamic_batch: bool = False
    thresholds: dict = field(default_factory=dict)
    threads: int | None = None
    calib: str | None = None              # INT8 calibration folder (None: built-in photos, with a warning)
    calib_size: int = 256
    keep_float: list[str] = field(default_factory=list)
    seed: int = 0
    io: Literal["float", "int8"] = "float"  # TFLite INT8 input/output
    auto_fallback: bool = False           # INT8 PT2E targets: keep sensitive blocks float until fallback_sqnr
    fallback_sqnr: float = 30.0           # dB vs fp32 the fallback aims for (fake-quant, calibration images)


VALIDATION_LIMIT = 200  # images parity runs on, at most


@dataclass
class ValidationData:
    """The images parity runs on, and whether they fit the model (which decides if quality is judged)."""

    x: np.ndarray
    description: str
    in_distribution: bool
    path: str | None = None            # the folder, or None for the built-in photos


@dataclass
class ExportInputs:
    """What every target of one run shares: the parity images, PyTorch's outputs on them, an example
    input and the calibration set (INT8 only)."""

    validation: ValidationData
    reference: np.ndarray
    calib: CalibrationSet | None = None

    @property
    def x_val(self) -> np.ndarray:
        return self.validation.x

    @property
    def example(self) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(self.x_val[:1]))


def validation_data(model: torch.nn.Module, folder: str | None) -> ValidationData:
    """``--validate-data`` when given; else the validation sample that travels with the weights; else
    the built-in photos, which fit only ImageNet-class models."""
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


def resolve_targets(names: list[str], precision: Precision | None) -> list[tuple[Target, Precision]]:
    """(target, precision) pairs; an impossible combination is refused before any work."""
    targets = list(TARGETS) if "all" in names else [by_name(n) for n in names]
    pairs = []
    for t in targets:
        p = precision or t.default_precision
        if p not in t.precisions:
            raise EffmodError(f"precision {p} is not available for target {t.name}",
                              hint=f"{t.name} exports {', '.join(t.precisions)}")
        pairs.append((t, p))
    return pairs


def artifact_name(opts: ExportOptions, target: Target, precision: Precision) -> str:
    form = "" if opts.deploy_form else "_naive"
    img = "_img" if opts.image_input and target.name == "coreml" else ""
    return f"{opts.model}_{opts.img_size}_{precision}{form}{img}{target.suffix}"


def _check_output(out_dir: Path, names: list[str], force: bool) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EffmodError(f"cannot create output directory {out_dir}: {e.strerror}",
                          hint="choose a writable --output") from None
    probe = out_dir / ".effmod-write-test"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError:
        raise EffmodError(f"output directory {out_dir} is not writable", hint="choose a writable --output") from None
    existing = [n for n in names if (out_dir / n).exists()]
    if existing and not force:
        raise EffmodError(f"{out_dir / existing[0]} already exists", hint="pass --force to overwrite, or another --output")


TEMP_PREFIX = ".effmod-tmp-"


def temp_dir(out_dir: Path) -> Path:
    """A private build folder inside the output folder (same filesystem: the final rename is atomic),
    named after this process and host so a later run can tell a dead run's leftovers from a live one's
    (a sweep's cache is shared by the nodes of a cluster: a pid means something only on its own host)."""
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}@{_host()}-", dir=out_dir))


def _host() -> str:
    return socket.gethostname().replace("-", "_") or "host"


def clean_stale_temp(out_dir: Path, prefix: str = TEMP_PREFIX) -> int:
    """Remove build folders of runs that were killed (their process is gone). Returns how many.
    Folders of another host are left alone: their process cannot be checked from here."""
    removed = 0
    for d in out_dir.glob(prefix + "*"):
        owner = d.name[len(prefix):].split("-", 1)[0]
        pid, _, host = owner.partition("@")
        if host and host != _host():
            continue
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _place(tmp_artifact: Path, final: Path) -> None:
    """Move a finished artifact and its manifest into place (same filesystem: atomic renames)."""
    tmp_manifest = tmp_artifact.with_name(tmp_artifact.name + ".json")
    final_manifest = final.with_name(final.name + ".json")
    if final.is_dir():
        shutil.rmtree(final)
    tmp_artifact.replace(final)
    tmp_manifest.replace(final_manifest)


def _check_quant_options(opts: ExportOptions, pairs: list[tuple[Target, Precision]]) -> None:
    """INT8 option mistakes are refused before any work (no model load, no calibration)."""
    if opts.io != "float" and not any(t.name == "tflite" and p == "int8" for t, p in pairs):
        raise EffmodError("--io int8 applies to TFLite INT8 exports only", hint="use --target tflite --quantize int8")
    if not any(p == "int8" for _, p in pairs):
        return
    if opts.keep_float or opts.auto_fallback:
        no_keep = [t.name for t, p in pairs if p == "int8" and not t.has_float_islands]
        flag = "--keep-float" if opts.keep_float else "--auto-fallback"
        if no_keep:
            raise EffmodError(f"{flag} is not available for {', '.join(no_keep)} INT8",
                              hint="those targets use an op-type recipe (recorded in the manifest); "
                                   "--keep-float works for " + ", ".join(t.name for t in TARGETS if t.has_float_islands))
    from ..quantize.calibration import check_calibration_args

    check_calibration_args(opts.calib, opts.calib_size)


def _auto_fallback(model, target: Target, calib: CalibrationSet, example, opts: ExportOptions, reporter) -> dict:
    from ..quantize.keep_float import merge_patterns
    from ..quantize.sensitivity import auto_fallback, split_calibration

    min_sqnr = opts.fallback_sqnr
    fit, eval_x = split_calibration(calib.images)
    base = merge_patterns(target.default_keep_float or (), opts.keep_float)
    with reporter.progress(f"{target.name}: INT8 sensitivity + auto-fallback to {min_sqnr:g} dB", total=1) as update:
        result = auto_fallback(model, example, fit, eval_x, base, min_sqnr, progress=update)
    kept = ", ".join(result["kept_float"]) or "nothing"
    reporter.warn(f"{target.name}: auto-fallback kept {kept} in float: SQNR {result['history'][0]['sqnr_db']:.1f} -> "
                  f"{result['sqnr_db']:.1f} dB, {result['float_params_fraction']:.0%} of the weights stay float"
                  + ("" if result["reached"] else f" (target {min_sqnr:g} dB NOT reached)"))
    return result


def load_model(opts: ExportOptions) -> torch.nn.Module:
    """The model with its weights; load notes land in ``model.info.load_notes`` (not as warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return create_model(opts.model, num_classes=opts.num_classes, weights=opts.weights, img_size=opts.img_size)


def prepare_inputs(model: torch.nn.Module, opts: ExportOptions, precisions, reporter: Reporter) -> ExportInputs:
    data_config = model.info.data_config
    with reporter.stage("reference outputs"):
        validation = validation_data(model, opts.validate_data)
        with torch.no_grad():
            reference = model(torch.from_numpy(validation.x)).numpy()
    if not validation.in_distribution:
        reporter.warn(f"parity runs on {validation.description}, which do not fit a {model.info.num_classes}-class "
                      "model: quality is reported, not judged (pass --validate-data DIR with images of its classes)")
    inputs = ExportInputs(validation, reference)
    if any(p == "int8" for p in precisions):
        from ..quantize import load_calibration

        with reporter.stage("calibration images"):
            inputs.calib = load_calibration(opts.calib, data_config, opts.calib_size, opts.seed)
        for w in inputs.calib.warnings:
            reporter.warn(w)
    return inputs


def run_artifact(runner, x: np.ndarray) -> np.ndarray:
    try:
        return runner(x)
    except EffmodError as e:
        if str(runner.path) in e.message or runner.path.name in e.message:
            raise
        # e.g. the executor names the op that failed, not the package it came from
        raise EffmodError(f"{runner.path} failed to run in {runner.engine}: {e.message}", hint=e.hint) from None
    except Exception as e:  # noqa: BLE001 - a runtime failing on an artifact is reported, with the artifact
        raise EffmodError(f"{runner.path} failed to run in {runner.engine} ({_first_line(e)})",
                          hint="the artifact may be corrupt: re-export it (effmod validate re-checks it)") from None


def simulated_reference(target: Target, result: TargetResult, artifact: Path, x: np.ndarray,
                        threads: int | None = None) -> tuple[np.ndarray | None, str | None]:
    """The simulated quantized reference's outputs on ``x`` (quantized precisions only): PyTorch's
    fake-quantized model where the recipe has one, else the artifact run by reference kernels."""
    if result.fake_quant is not None:
        from ..quantize.pt2e import run_module

        return run_module(result.fake_quant, x), result.fake_quant_desc
    if target.reference_options is not None:
        return run_artifact(target.reference_runner(artifact, result.input, threads), x), target.reference_desc
    return None, None


def check_artifact(artifact: Path, input_spec, validation: ValidationData, reference: np.ndarray,
                   precision: Precision, target: Target | None = None, overrides: dict | None = None,
                   threads: int | None = None, simulated: np.ndarray | None = None,
                   simulated_desc: str | None = None) -> ParityResult:
    """Run ``artifact`` in its real runtime on the validation images and judge it (both gates)."""
    target = target or for_artifact(artifact)
    runner = load_runner(artifact, threads=threads, input_spec=input_spec)
    out = run_artifact(runner, validation.x)
    created = [(e.kind, e.op) for e in getattr(runner, "non_finite", []) if e.from_finite]
    return judge(out, reference, precision, validation.description, runner.engine, validation.in_distribution,
                 overrides, simulated, simulated_desc, target.correctness_bounds.get(precision), created,
                 validation.path)


def _convert(target: Target, job: ExportJob, path: Path) -> TargetResult:
    try:
        return target.convert(job, path)
    except EffmodError:
        raise
    except Exception as e:  # noqa: BLE001 - converter failures are reported, not raised raw
        raise EffmodError(f"{target.name}: conversion failed: {_first_line(e)}",
                          hint="rerun with --debug for the converter's traceback") from e


def build_manifest(model, target: Target, precision: Precision, artifact: Path, result: TargetResult,
                   parity: ParityResult, deploy_report: dict | None, export_seconds: float) -> Manifest:
    info = model.info
    weights = info.weights
    return Manifest(
        model=info.name,
        num_classes=info.num_classes, target=target.name, precision=precision, artifact=artifact.name,
        artifact_bytes=artifact_bytes(artifact), artifact_sha256=artifact_sha256(artifact),
        weights=weights.source if weights else None, weights_sha256=weights.sha256 if weights else None,
        trained=weights is not None, deploy_form=deploy_report, input=result.input, output=result.output,
        preprocessing=preprocessing(info.data_config),
        labels=list(info.data_config.labels) if info.data_config.labels else None,
        versions={"torch": torch.__version__, "converter": result.converter, "runtime": result.runtime,
                  "effmod": __version__},
        parity=parity, delegation=result.delegation, notes=result.notes, export_seconds=round(export_seconds, 2),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"))


@dataclass
class Built:
    """A converted artifact in its build folder, before parity."""

    artifact: Path
    result: TargetResult
    deploy_report: dict | None
    fallback: dict | None
    seconds: float


def build_artifact(model: torch.nn.Module, target: Target, precision: Precision, opts: ExportOptions,
                   reporter: Reporter, inputs: ExportInputs, build_dir: Path) -> Built:
    """Deploy form (with the target's options), INT8 fallback if asked, then the target's converter,
    writing into ``build_dir``. Export and validate (rebuilding a quantized reference) both use it."""
    deploy_report = None
    to_convert = model
    if opts.deploy_form:
        # Each target declares the graph details measured fastest in its runtime.
        to_convert, deploy_report = reparameterize(model, report=True, options=target.deploy_options)
        deploy_report = {**deploy_report, "options": vars(target.deploy_options)}
    fallback = None
    if opts.auto_fallback and precision == "int8":
        fallback = _auto_fallback(to_convert, target, inputs.calib, inputs.example, opts, reporter)
    keep_float = tuple(opts.keep_float) + tuple(fallback["kept_float"] if fallback else ())
    use_calib = inputs.calib is not None and precision == "int8"
    job = ExportJob(model=to_convert, example=inputs.example, precision=precision, data_config=model.info.data_config,
                    model_name=opts.model, image_input=opts.image_input and target.name == "coreml",
                    dynamic_batch=opts.dynamic_batch, calib=inputs.calib.images if use_calib else None,
                    keep_float=keep_float, io=opts.io)
    artifact = build_dir / artifact_name(opts, target, precision)
    t0 = time.perf_counter()
    with reporter.stage(f"{target.name}: convert"):
        result = _convert(target, job, artifact)
    return Built(artifact, result, deploy_report, fallback, time.perf_counter() - t0)


def export_one(model: torch.nn.Module, target: Target, precision: Precision, opts: ExportOptions,
               reporter: Reporter, inputs: ExportInputs | None = None) -> Manifest:
    """Export ``model`` (an EfficientMod with its ``info``) for one target and precision into
    ``opts.output``: convert in a build folder, run parity in the real runtime, write the manifest,
    rename both into place. ``inputs`` (parity images, calibration) are made here when not given."""
    inputs = inputs or prepare_inputs(model, opts, [precision], reporter)
    out_dir = Path(opts.output)
    tmp_root = temp_dir(out_dir)
    try:
        built = build_artifact(model, target, precision, opts, reporter, inputs, tmp_root)
        with reporter.stage(f"{target.name}: parity"):
            simulated, sim_desc = simulated_reference(target, built.result, built.artifact, inputs.x_val, opts.threads)
            parity = check_artifact(built.artifact, built.result.input, inputs.validation, inputs.reference, precision,
                                    target, opts.thresholds, opts.threads, simulated, sim_desc)
        manifest = build_manifest(model, target, precision, built.artifact, built.result, parity,
                                  built.deploy_report, built.seconds)
        if built.result.quantization is not None:
            use_calib = inputs.calib is not None and precision == "int8"
            manifest.quantization = {**built.result.quantization,
                                     "calibration": inputs.calib.manifest() if use_calib else None,
                                     "auto_fallback": built.fallback}
        manifest.write(built.artifact)
        _place(built.artifact, out_dir / built.artifact.name)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    manifest.path = str(out_dir / built.artifact.name)
    reporter.artifact_done(manifest)
    return manifest


def run_export(opts: ExportOptions, reporter: Reporter) -> list[Manifest]:
    """Export every requested target. A failed parity check does not stop the run: the artifact is
    kept and its manifest says ``parity.status == "failed"`` (the CLI then exits 2)."""
    pairs = resolve_targets(opts.targets, opts.precision)
    _check_quant_options(opts, pairs)
    with reporter.stage("load model"):
        model = load_model(opts)
    # The weights decide the defaults (a CIFAR-10 model is 10 classes at 64 px).
    info = model.info
    opts = replace(opts, num_classes=info.num_classes, img_size=info.data_config.img_size)
    _check_output(Path(opts.output), [artifact_name(opts, t, p) for t, p in pairs], opts.force)
    stale = clean_stale_temp(Path(opts.output))
    if stale:
        reporter.note(f"removed {stale} build folder(s) left in {opts.output} by an interrupted run")
    for note in info.load_notes:
        reporter.warn(note)
    if info.weights is None:
        reporter.warn(f"no weights: {opts.model} has random, untrained weights "
                      "(the artifact is structurally real but classifies nothing); pass --weights")
    elif info.weights.is_builtin:
        reporter.note(f"built-in weights '{info.weights.source}': {opts.num_classes} classes at {opts.img_size} px")
    inputs = prepare_inputs(model, opts, [p for _, p in pairs], reporter)
    return [export_one(model, target, precision, opts, reporter, inputs) for target, precision in pairs]


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"


__all__ = ["ExportOptions", "ExportInputs", "ValidationData", "run_export", "export_one", "build_artifact",
           "check_artifact", "simulated_reference", "resolve_targets"]
