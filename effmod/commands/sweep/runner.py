"""``effmod sweep``: export every combination (cached by hash), run it over a labelled set in its real
runtime, time it in its own process, and write one row per combination as it finishes (resumable)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...console import NullReporter, Reporter
from ...errors import EffmodError
from ...eval.datasets import check_classes, load_labelled_images
from ...manifest import Manifest
from ...targets import by_name, load_runner
from ..export import ExportOptions, clean_stale_temp, export_one, load_model, temp_dir
from .evaluate import accuracy_row, run_artifact, topk_hits
from .grid import Combo, build_grid


@dataclass
class SweepOptions:
    model: str
    data: str
    weights: str | None = "auto"
    num_classes: int | None = None
    img_size: int | None = None
    calib: str | None = None
    targets: list[str] = field(default_factory=lambda: ["onnx", "tflite", "executorch", "coreml"])
    precisions: list[str] = field(default_factory=lambda: ["fp32", "fp16", "int8"])
    calib_sizes: list[int] = field(default_factory=lambda: [32, 256])
    fallbacks: list[str] = field(default_factory=lambda: ["none", "auto"])
    limit: int | None = None
    output: str = "effmod-sweep"
    resume: bool = False
    force: bool = False
    threads: int = 2
    seed: int = 0
    bench_runs: int = 50
    eval_chunk: int = 64


def _atomic_json(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def _read_json(path: Path):
    """A file this sweep wrote earlier, or None when it is missing or damaged (then it is redone)."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def save_logits(logits: np.ndarray, path: Path) -> str:
    """The row's logits (float16: 10k x 10 is 200 KB) for the agreement matrix, written before the row."""
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, logits.astype(np.float16))
    os.replace(tmp, path)
    return path.name


def _prepare_output(opts: SweepOptions) -> Path:
    out = Path(opts.output)
    rows = out / "rows"
    if rows.is_dir() and any(rows.glob("*.json")):
        if opts.force:
            shutil.rmtree(rows)
        elif not opts.resume:
            raise EffmodError(f"{out} already holds sweep results",
                              hint="--resume to continue it, --force to start again, or another --output")
    rows.mkdir(parents=True, exist_ok=True)
    (out / "artifacts").mkdir(exist_ok=True)
    clean_stale_temp(out / "artifacts")
    return out


def _export_cached(model, combo: Combo, key: str, opts: SweepOptions, art_root: Path) \
        -> tuple[Path, Manifest, float, list[str]]:
    """The combination's artifact: from the cache when its hash folder is complete, else exported into
    a temp folder and renamed into place (a killed export leaves no half-written cache entry)."""
    dest = art_root / key
    cached = _read_json(dest / "export.json")
    if cached is not None:
        try:
            artifact = dest / cached["artifact"]
            return artifact, Manifest.for_artifact(artifact), cached["export_s"], cached["warnings"]
        except (KeyError, TypeError, EffmodError):
            pass  # a damaged cache entry is exported again
    reporter = NullReporter()
    tmp = temp_dir(art_root)
    try:
        t0 = time.perf_counter()
        eopts = ExportOptions(targets=[combo.target], model=opts.model, weights=opts.weights,
                              num_classes=opts.num_classes, img_size=opts.img_size, precision=combo.precision,
                              calib=opts.calib if combo.precision == "int8" else None,
                              calib_size=combo.calib_size or 256, auto_fallback=combo.fallback == "auto",
                              seed=opts.seed, output=str(tmp), force=True, threads=opts.threads)
        manifest = export_one(model, by_name(combo.target), combo.precision, eopts, reporter)
        export_s = time.perf_counter() - t0
        _atomic_json({"artifact": manifest.artifact, "export_s": export_s, "warnings": reporter.warnings},
                     tmp / "export.json")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    manifest.path = str(dest / manifest.artifact)
    return dest / manifest.artifact, manifest, export_s, reporter.warnings


def run_combo(model, combo: Combo, key: str, opts: SweepOptions, art_root: Path, data, reference: np.ndarray,
              progress=None) -> dict:
    from ..bench import bench

    row = {"key": key, "target": combo.target, "precision": combo.precision, "calib_size": combo.calib_size,
           "fallback": combo.fallback, "label": combo.label}
    artifact, manifest, export_s, warns = _export_cached(model, combo, key, opts, art_root)
    quant = manifest.quantization or {}
    fb = quant.get("auto_fallback") or {}
    row.update(artifact=str(artifact), size_mb=round(manifest.artifact_bytes / 1e6, 3),
               export_s=round(export_s, 1), parity=manifest.parity.status,
               kept_float=fb.get("kept_float", []), float_params_fraction=fb.get("float_params_fraction"),
               export_warnings=warns)
    runner = load_runner(artifact, threads=opts.threads, input_spec=manifest.input)
    row["run_by"] = runner.engine
    data_config = model.info.data_config

    def batches():
        for i in range(0, len(data), opts.eval_chunk):
            yield data.normalized(slice(i, i + opts.eval_chunk), data_config).numpy()

    logits = run_artifact(runner, batches, len(data), progress)
    del runner
    row.update(accuracy_row(logits, data.labels.numpy(), reference))
    row["logits_file"] = save_logits(logits, art_root.parent / "rows" / f"{key}.logits.npy")
    lat = bench(artifact, threads=opts.threads, warmup=5, runs=opts.bench_runs)
    row["latency_ms"] = lat.get("median_ms") if lat.get("status") == "ok" else None
    row["latency_note"] = None if row["latency_ms"] is not None else lat.get("reason", lat.get("status"))
    row["status"] = "ok"
    return row


def run_sweep(opts: SweepOptions, reporter: Reporter) -> dict:
    from ...machine import machine_info
    from ...versions import installed
    from .report import write_reports

    combos, notes = build_grid(opts.targets, opts.precisions, opts.calib_sizes, opts.fallbacks)
    out = _prepare_output(opts)
    model = load_model(ExportOptions(targets=[], model=opts.model, weights=opts.weights, num_classes=opts.num_classes,
                                     img_size=opts.img_size))
    if model.info.weights is None:
        raise EffmodError("a sweep needs trained weights (accuracy of random weights means nothing)",
                          hint="pass --weights (a checkpoint or a built-in tag such as cifar10)")
    data_config = model.info.data_config
    opts.num_classes, opts.img_size = model.num_classes, data_config.img_size
    labels = data_config.labels
    with reporter.stage("decode evaluation images"):
        data = load_labelled_images(opts.data, data_config, limit=opts.limit,
                                    expected_classes=list(labels) if labels and len(labels) == model.num_classes else None)
    if len(data.classes) != model.num_classes:
        check_classes(data.classes, [f"class {i}" for i in range(model.num_classes)], opts.data)
    if data.unreadable:
        reporter.warn(f"{len(data.unreadable)} unreadable images skipped (first: {data.unreadable[0]})")
    with reporter.stage("PyTorch fp32 reference logits"), torch.no_grad():
        reference = np.concatenate([model(data.normalized(slice(i, i + 256), data_config)).numpy()
                                    for i in range(0, len(data), 256)])
    ref_top1, ref_top5 = topk_hits(reference, data.labels.numpy())
    context = {"model": opts.model, "weights_sha256": model.info.weights.sha256, "img_size": opts.img_size,
               "num_classes": opts.num_classes, "seed": opts.seed,
               "calib": str(Path(opts.calib).resolve()) if opts.calib else None}
    for n in notes:
        reporter.line(f"[dim]skipped: {n}[/]")

    rows = []
    debug = getattr(reporter, "debug", False)
    with reporter.progress("sweep", total=len(combos), keep=False) as update:
        for i, combo in enumerate(combos):
            key = combo.key(context)
            row_path = out / "rows" / f"{key}.json"
            done = _read_json(row_path) if opts.resume else None
            if isinstance(done, dict) and done.get("key") == key:
                rows.append(done)
                update(i + 1)
                continue
            if opts.resume and row_path.is_file():
                reporter.warn(f"{row_path} is damaged; computing that row again")
            update(i, status=f"{combo.label}: export")
            try:
                row = run_combo(model, combo, key, opts, out / "artifacts", data, reference,
                                progress=lambda done: update(i, status=f"{combo.label}: {done}/{len(data)} images"))
            except KeyboardInterrupt:
                raise
            except Exception as e:  # noqa: BLE001 - one failed combination is a row, the sweep goes on
                if debug:
                    raise
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                row = {"key": key, "target": combo.target, "precision": combo.precision,
                       "calib_size": combo.calib_size, "fallback": combo.fallback, "label": combo.label,
                       "status": "failed", "reason": f"{type(e).__name__}: {first}"[:300]}
            _atomic_json(row, row_path)
            rows.append(row)
            update(i + 1)
            reporter.line(_row_line(row))
    result = {
        "model": opts.model, "weights": opts.weights, "weights_sha256": model.info.weights.sha256,
        "data": str(opts.data), "images": len(data), "unreadable": len(data.unreadable),
        "img_size": opts.img_size, "calib": opts.calib, "threads": opts.threads,
        "pytorch_fp32": {"top1": round(ref_top1, 3), "top5": round(ref_top5, 3)},
        "rows": rows, "skipped": notes, "machine": machine_info(),
        "versions": {p: installed(p) for p in ("torch", "onnxruntime", "ai-edge-litert", "executorch", "coremltools")},
    }
    result["files"] = write_reports(result, out, reference)
    return result


def _row_line(row: dict) -> str:
    if row["status"] != "ok":
        return f"[red]✗[/] {row['label']}: {row['reason']}"
    lat = f"{row['latency_ms']:.2f} ms" if row["latency_ms"] is not None else "not timed"
    return (f"[green]✓[/] {row['label']}: top-1 {row['top1']:.2f}%  agreement {row['agreement']:.2f}%  "
            f"SQNR {row['sqnr_db']:.1f} dB  {row['size_mb']:.1f} MB  {lat}")
