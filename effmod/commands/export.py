"""``effmod-export``: model -> deploy form -> artifact -> parity -> manifest, as a linear driver.

``run_export`` loads the model once and calls ``export_one`` per (target, precision); the sweep calls
``export_one`` directly."""
from __future__ import annotations

import os
import shutil
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
from ..parity import DEFAULT_THRESHOLDS, ParityResult, judge
from ..precision import Precision
from ..quantize import CalibrationSet
from ..targets import TARGETS, ExportJob, Target, TargetResult, by_name, load_runner


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
    auto_fallback: bool = False           # INT8 PT2E targets: keep sensitive blocks float until min SQNR


@dataclass
class ExportInputs:
    """What every target of one run shares: the parity images, PyTorch's outputs on them, an example
    input and the calibration set (INT8 only)."""

    x_val: np.ndarray
    val_desc: str
    reference: np.ndarray
    calib: CalibrationSet | None = None

    @property
    def example(self) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(self.x_val[:1]))


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
    named after this process so a later run can tell a dead run's leftovers from a live one's."""
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=out_dir))


def clean_stale_temp(out_dir: Path, prefix: str = TEMP_PREFIX) -> int:
    """Remove build folders of runs that were killed (their process is gone). Returns how many."""
    removed = 0
    for d in out_dir.glob(prefix + "*"):
        pid = d.name[len(prefix):].split("-", 1)[0]
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

    min_sqnr = opts.thresholds.get("sqnr_db", 30.0)
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
        x_val, val_desc = validation_batch(data_config, opts.validate_data)
        with torch.no_grad():
            reference = model(torch.from_numpy(x_val)).numpy()
    inputs = ExportInputs(x_val, val_desc, reference)
    if any(p == "int8" for p in precisions):
        from ..quantize import load_calibration

        with reporter.stage("calibration images"):
            inputs.calib = load_calibration(opts.calib, data_config, opts.calib_size, opts.seed)
        for w in inputs.calib.warnings:
            reporter.warn(w)
    return inputs


def check_artifact(artifact: Path, input_spec, inputs_x: np.ndarray, reference: np.ndarray, precision: Precision,
                   data_desc: str, overrides: dict | None = None, threads: int | None = None,
                   quant_reference: np.ndarray | None = None) -> ParityResult:
    """Run ``artifact`` in its real runtime on ``inputs_x`` and judge it against ``reference``."""
    runner = load_runner(artifact, threads=threads, input_spec=input_spec)
    try:
        out = runner(inputs_x)
    except EffmodError:
        raise
    except Exception as e:  # noqa: BLE001 - a runtime failing on an artifact is reported, with the artifact
        raise EffmodError(f"{artifact} failed to run in {runner.engine} ({_first_line(e)})",
                          hint="the artifact may be corrupt: re-export it (effmod validate re-checks it)") from None
    created = [(e.kind, e.op) for e in getattr(runner, "non_finite", []) if e.from_finite]
    return judge(out, reference, precision, data_desc, runner.engine, overrides, quant_reference, created)


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


def export_one(model: torch.nn.Module, target: Target, precision: Precision, opts: ExportOptions,
               reporter: Reporter, inputs: ExportInputs | None = None) -> Manifest:
    """Export ``model`` (an EfficientMod with its ``info``) for one target and precision into
    ``opts.output``: convert in a temp folder, run parity in the real runtime, write the manifest,
    rename both into place. ``inputs`` (parity images, calibration) are made here when not given."""
    inputs = inputs or prepare_inputs(model, opts, [precision], reporter)
    out_dir = Path(opts.output)
    name = artifact_name(opts, target, precision)
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
    tmp_root = temp_dir(out_dir)
    try:
        tmp_artifact = tmp_root / name
        t0 = time.perf_counter()
        with reporter.stage(f"{target.name}: convert"):
            result = _convert(target, job, tmp_artifact)
        export_seconds = time.perf_counter() - t0
        with reporter.stage(f"{target.name}: parity"):
            quant_reference = None
            if result.fake_quant is not None:
                from ..quantize.pt2e import run_module

                quant_reference = run_module(result.fake_quant, inputs.x_val)
            parity = check_artifact(tmp_artifact, result.input, inputs.x_val, inputs.reference, precision,
                                    inputs.val_desc, opts.thresholds, opts.threads, quant_reference=quant_reference)
        manifest = build_manifest(model, target, precision, tmp_artifact, result, parity, deploy_report,
                                  export_seconds)
        if result.quantization is not None:
            manifest.quantization = {**result.quantization,
                                     "calibration": inputs.calib.manifest() if use_calib else None,
                                     "auto_fallback": fallback}
        manifest.write(tmp_artifact)
        _place(tmp_artifact, out_dir / name)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    manifest.path = str(out_dir / name)
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


__all__ = ["ExportOptions", "ExportInputs", "run_export", "export_one", "resolve_targets", "DEFAULT_THRESHOLDS"]
