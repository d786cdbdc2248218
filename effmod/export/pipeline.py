"""The export pipeline behind ``effmod-export``: model -> deploy form -> artifact -> parity -> manifest."""
from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from ..errors import EffmodError
from ..eval.images import validation_batch
from ..models import create_model
from .manifest import build_manifest, write_manifest
from .parity import DEFAULT_THRESHOLDS, check_parity
from .reparameterize import reparameterize
from .targets import TARGETS, get_target
from .targets.base import ExportJob


@dataclass
class ExportOptions:
    targets: list[str]
    model: str = "efficientmod_xxs"
    weights: str | None = None           # path, built-in tag ("cifar10"), "auto" or None (random init)
    num_classes: int | None = None        # None: from the weights (effmod-trained files), else 1000
    img_size: int | None = None           # None: from the weights' data config, else 224
    precision: str | None = None          # None: each target's default (Core ML fp16, others fp32)
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
    io: str = "float"                     # TFLite INT8 input/output: float or int8
    auto_fallback: bool = False           # INT8 PT2E targets: keep sensitive blocks float until min SQNR


def resolve_targets(names: list[str], precision: str | None) -> list[tuple[str, str]]:
    """(target, precision) pairs; an impossible combination is refused before any work."""
    targets = list(TARGETS) if "all" in names else names
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise EffmodError(f"unknown target {', '.join(unknown)}", hint="choose from " + ", ".join(TARGETS + ("all",)))
    pairs = []
    for t in targets:
        supported = get_target(t).PRECISIONS
        p = precision or supported[0]
        if p not in supported:
            raise EffmodError(f"precision {p} is not available for target {t}",
                              hint=f"{t} exports {', '.join(supported)}")
        pairs.append((t, p))
    return pairs


def artifact_name(opts: ExportOptions, target: str, precision: str) -> str:
    form = "" if opts.deploy_form else "_naive"
    img = "_img" if opts.image_input and target == "coreml" else ""
    return f"{opts.model}_{opts.img_size}_{precision}{form}{img}{get_target(target).SUFFIX}"


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


def _place(tmp_artifact: Path, final: Path) -> None:
    """Move a finished artifact and its manifest into place (same filesystem: atomic renames)."""
    tmp_manifest = tmp_artifact.with_name(tmp_artifact.name + ".json")
    final_manifest = final.with_name(final.name + ".json")
    if final.is_dir():
        shutil.rmtree(final)
    tmp_artifact.replace(final)
    tmp_manifest.replace(final_manifest)


def _check_quant_options(opts: ExportOptions, pairs: list[tuple[str, str]]) -> None:
    """INT8 option mistakes are refused before any work (no model load, no calibration)."""
    if opts.io != "float" and not any(t == "tflite" and p == "int8" for t, p in pairs):
        raise EffmodError("--io int8 applies to TFLite INT8 exports only", hint="use --target tflite --quantize int8")
    if not any(p == "int8" for _, p in pairs):
        return
    if opts.keep_float or opts.auto_fallback:
        no_keep = [t for t, p in pairs if p == "int8" and t in ("tflite", "onnx")]
        flag = "--keep-float" if opts.keep_float else "--auto-fallback"
        if no_keep:
            raise EffmodError(f"{flag} is not available for {', '.join(no_keep)} INT8",
                              hint="those targets use an op-type recipe (recorded in the manifest); "
                                   "--keep-float works for executorch and coreml")
    from ..quantize.calibration import check_calibration_args

    check_calibration_args(opts.calib, opts.calib_size)


def _auto_fallback(model, target: str, calib, example, opts: ExportOptions, reporter) -> dict:
    from ..quantize.report import default_keep_float, split_calibration
    from ..quantize.keep_float import merge_patterns
    from ..quantize.sensitivity import auto_fallback

    min_sqnr = opts.thresholds.get("sqnr_db", 30.0)
    fit, eval_x = split_calibration(calib.images)
    base = merge_patterns(default_keep_float(target), opts.keep_float)
    with reporter.progress(f"{target}: INT8 sensitivity + auto-fallback to {min_sqnr:g} dB", total=1) as update:
        result = auto_fallback(model, example, fit, eval_x, base, min_sqnr, progress=update)
    kept = ", ".join(result["kept_float"]) or "nothing"
    reporter.warn(f"{target}: auto-fallback kept {kept} in float: SQNR {result['history'][0]['sqnr_db']:.1f} -> "
                  f"{result['sqnr_db']:.1f} dB, {result['float_params_fraction']:.0%} of the weights stay float"
                  + ("" if result["reached"] else f" (target {min_sqnr:g} dB NOT reached)"))
    return result


def load_model(opts: ExportOptions) -> torch.nn.Module:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = create_model(opts.model, num_classes=opts.num_classes, weights=opts.weights, img_size=opts.img_size)
    model.load_notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return model


def run_export(opts: ExportOptions, reporter) -> list[dict]:
    """Export every requested target; ``reporter`` shows progress (see console.StageReporter).
    Returns the manifests. A failed parity check does not stop the run: the artifact is kept and its
    manifest says ``parity.status == "failed"`` (the CLI then exits 2)."""
    pairs = resolve_targets(opts.targets, opts.precision)
    _check_quant_options(opts, pairs)
    with reporter.stage("load model"):
        model = load_model(opts)
    # The weights decide the defaults (a CIFAR-10 model is 10 classes at 64 px).
    opts = replace(opts, num_classes=model.num_classes, img_size=model.data_config["input_size"][-1])
    out_dir = Path(opts.output)
    names = [artifact_name(opts, t, p) for t, p in pairs]
    _check_output(out_dir, names, opts.force)
    for note in model.load_notes:
        reporter.warn(note)
    if model.weights_info is None:
        reporter.warn(f"no weights: {opts.model} has random, untrained weights "
                      "(the artifact is structurally real but classifies nothing); pass --weights")
    elif model.weights_info["source"] != model.weights_info["file"]:
        reporter.note(f"built-in weights '{model.weights_info['source']}': {opts.num_classes} classes at "
                      f"{opts.img_size} px")
    data_config = model.data_config
    with reporter.stage("reference outputs"):
        x_val, val_desc = validation_batch(data_config, opts.validate_data)
        with torch.no_grad():
            reference = model(torch.from_numpy(x_val)).numpy()
    _, h, w = data_config["input_size"]
    example = torch.from_numpy(x_val[:1]).reshape(1, 3, h, w)
    calib = None
    if any(p == "int8" for _, p in pairs):
        from ..quantize import load_calibration

        with reporter.stage("calibration images"):
            calib = load_calibration(opts.calib, data_config, opts.calib_size, opts.seed)
        for w_ in calib.warnings:
            reporter.warn(w_)

    manifests = []
    for (target, precision), name in zip(pairs, names):
        mod = get_target(target)
        deploy_report = None
        to_convert = model
        if opts.deploy_form:
            # Each target declares the graph details measured fastest in its runtime.
            to_convert, deploy_report = reparameterize(model, report=True, options=mod.DEPLOY_OPTIONS)
            deploy_report = {**deploy_report, "options": vars(mod.DEPLOY_OPTIONS)}
        fallback = None
        if opts.auto_fallback and precision == "int8":
            fallback = _auto_fallback(to_convert, target, calib, example, opts, reporter)
        keep_float = tuple(opts.keep_float) + tuple(fallback["kept_float"] if fallback else ())
        job = ExportJob(model=to_convert, example=example, precision=precision, data_config=data_config,
                        model_name=opts.model, image_input=opts.image_input and target == "coreml",
                        dynamic_batch=opts.dynamic_batch, labels=data_config.get("labels"),
                        calib=calib.images if calib is not None and precision == "int8" else None,
                        keep_float=keep_float, io=opts.io)
        tmp_root = Path(tempfile.mkdtemp(prefix=".effmod-tmp-", dir=out_dir))
        try:
            tmp_artifact = tmp_root / name
            t0 = time.perf_counter()
            with reporter.stage(f"{target}: convert"):
                try:
                    result = mod.convert(job, tmp_artifact)
                except EffmodError:
                    raise
                except Exception as e:  # noqa: BLE001 - converter failures are reported, not raised raw
                    raise EffmodError(f"{target}: conversion failed: {_first_line(e)}",
                                      hint="rerun with --debug for the converter's traceback") from e
            export_seconds = time.perf_counter() - t0
            with reporter.stage(f"{target}: parity"):
                quant_reference = None
                if result.fake_quant is not None:
                    from ..quantize.pt2e import run_module

                    quant_reference = run_module(result.fake_quant, x_val)
                parity = check_parity(tmp_artifact, {"input": result.input, "output": result.output}, reference,
                                      x_val, precision, val_desc, opts.thresholds, opts.threads,
                                      quant_reference=quant_reference)
            manifest = build_manifest(opts, model, target, precision, tmp_artifact, result, parity,
                                      deploy_report, export_seconds)
            if result.quantization is not None:
                manifest["quantization"] = {**result.quantization,
                                            "calibration": calib.manifest() if job.calib is not None else None,
                                            "auto_fallback": fallback}
            write_manifest(tmp_artifact, manifest)
            _place(tmp_artifact, out_dir / name)
        finally:
            shutil.rmtree(tmp_root, ignore_errors=True)
        manifest["path"] = str(out_dir / name)
        manifests.append(manifest)
        reporter.artifact_done(manifest)
    return manifests


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"


__all__ = ["ExportOptions", "run_export", "resolve_targets", "DEFAULT_THRESHOLDS"]
