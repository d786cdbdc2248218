"""``effmod sweep``: export every combination (cached by hash), evaluate it shard by shard over a
labelled set in its real runtime, time it on a node reserved whole, and write one row per combination
as it finishes. The tasks run on Ray (a local instance by default, ``--ray-address`` for a cluster) or,
with ``--no-ray``, in this process; finished shards and rows are on disk before they count (resumable)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ... import interrupts
from ...console import Reporter
from ...errors import EffmodError
from ...eval.datasets import check_classes, select_samples
from ...manifest import Manifest
from ...pipeline import load_model
from ...placement import clean_stale_temp
from ...targets import TARGET_NAMES, TARGETS
from . import arm
from ...pipeline.arm64 import Arm64Request
from .backends import InlineBackend, NodeInfo, RayBackend, check_shared_paths
from .accuracy import topk_hits
from .grid import build_grid
from .schedule import REFERENCE, RowState, Scheduler, SweepTimeout, eval_seconds, shard_list
from .view import NullView, SweepView
from .work import ShardStore, SweepSpec, atomic_json, read_json

SHARD_SIZE = 1000  # images a task: long enough to amortise loading the artifact, short enough to resume


@dataclass(frozen=True)  # resolved once (run_sweep fills in the model's classes and size), then read only
class SweepOptions:
    model: str
    data: str
    weights: str | None = "auto"
    num_classes: int | None = None
    img_size: int | None = None
    calib: str | None = None
    targets: list[str] = field(default_factory=lambda: list(TARGET_NAMES))
    precisions: list[str] = field(default_factory=lambda: ["fp32", "fp16", "int8"])
    calib_sizes: list[int] = field(default_factory=lambda: [32, 256])
    fallbacks: list[str] = field(default_factory=lambda: ["none", "auto"])
    limit: int | None = None
    output: str = "effmod-sweep"
    resume: bool = False
    force: bool = False
    threads: int = 2
    seed: int = 0
    bench_runs: int = 100
    latency_rounds: int = 5            # the artifacts are timed in this many interleaved rounds
    eval_chunk: int = 64
    shard_size: int = SHARD_SIZE
    ray_address: str | None = None     # None: a local Ray instance; "auto" or HOST:PORT: join a cluster
    no_ray: bool = False               # every task in this process
    workers: int | None = None         # tasks in flight at most (default: what the nodes can place)
    cache: str | None = None           # exports + decoded shards (default: --output); shared on a cluster
    timeout: int | None = None         # seconds the whole sweep may take (then it stops, keeping what is done)
    command_line: str | None = None    # how to resume it (the "resume with" line of an interrupted sweep)
    arm64: Arm64Request | None = None  # per row: top-1 agreement of emulated ARM CPUs with the x86 run


def save_logits(logits: np.ndarray, path: Path) -> str:
    """The row's logits (float16: 10k x 10 is 200 KB) for the agreement matrix, written before the row."""
    interrupts.check()
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, logits.astype(np.float16))
    os.replace(tmp, path)
    return path.name


def _earlier_results(opts: SweepOptions) -> bool:
    """Rows, or shards of a killed run, in --output; refused unless --resume or --force says what to do."""
    out = Path(opts.output)
    rows, shards = out / "rows", out / "shards"
    earlier = (rows.is_dir() and any(rows.glob("*.json"))) or (shards.is_dir() and any(shards.glob("*/*.npz")))
    if earlier and not (opts.force or opts.resume):
        raise EffmodError(f"{out} already holds sweep results",
                          hint="--resume to continue it, --force to start again, or another --output")
    return earlier


def _prepare_output(opts: SweepOptions, earlier: bool) -> Path:
    out = Path(opts.output)
    if earlier and opts.force:
        shutil.rmtree(out / "rows", ignore_errors=True)
        shutil.rmtree(out / "shards", ignore_errors=True)
    (out / "rows").mkdir(parents=True, exist_ok=True)
    return out


def check_options(opts: SweepOptions) -> None:
    """Bad flags, before anything starts (Ray, decoding, exports)."""
    if opts.no_ray and opts.ray_address:
        raise EffmodError("--no-ray and --ray-address contradict each other", hint="use one of them")
    if opts.workers is not None and opts.workers < 1:
        raise EffmodError(f"--workers {opts.workers} is not a positive number", hint="e.g. --workers 4")
    if opts.shard_size < 1:
        raise EffmodError(f"--shard-size {opts.shard_size} is not a positive number", hint="e.g. --shard-size 1000")
    if opts.ray_address and opts.cache and not Path(opts.cache).is_absolute():
        raise EffmodError(f"--cache {opts.cache} is relative: the nodes of a cluster resolve it each in its own "
                          "working folder", hint="pass an absolute path on a filesystem every node mounts")


def _samples(opts: SweepOptions, model) -> list:
    """The evaluation images (class-balanced subset with --limit), checked against the model's classes."""
    labels = model.info.data_config.labels
    classes, samples = select_samples(opts.data, opts.limit,
                                      list(labels) if labels and len(labels) == model.num_classes else None)
    if len(classes) != model.num_classes:
        check_classes(classes, [f"class {i}" for i in range(model.num_classes)], opts.data)
    return samples


def _shared_weights(weights: str | None) -> str | None:
    """A checkpoint path made absolute (workers on other nodes load it); built-in tags stay as they are."""
    if weights and weights not in ("auto", "none") and Path(weights).exists():
        return str(Path(weights).resolve())
    return weights


def open_backend(opts: SweepOptions, reporter: Reporter, shared: dict[str, str]):
    if opts.no_ray:
        backend = InlineBackend(debug=getattr(reporter, "debug", False))
    else:
        backend = RayBackend(opts.ray_address, opts.workers, opts.threads, debug=getattr(reporter, "debug", False))
        interrupts.install()  # ray.init installs its own SIGTERM handler: ours says what was kept
    try:
        Path(shared["cache"], "artifacts").mkdir(parents=True, exist_ok=True)
        if opts.ray_address:
            check_shared_paths(backend, shared)
    except BaseException:
        backend.close()
        raise
    return backend


def _shared_paths(opts: SweepOptions, spec: SweepSpec) -> dict[str, str]:
    """The paths every node must see (a probe task per node checks them)."""
    shared = {"cache": spec.cache, "data folder": str(Path(opts.data).resolve())}
    if spec.calib:
        shared["calibration folder"] = spec.calib
    if spec.weights and Path(spec.weights).is_absolute():
        shared["weights"] = spec.weights
    return shared


def _latency_node(backend) -> NodeInfo:
    """Every latency of a sweep is measured on one node (times from different machines do not compare):
    the driver's node when it is part of the cluster, else the first one."""
    driver = getattr(backend, "driver_node", None)
    return next((n for n in backend.nodes if n.node_id == driver), backend.nodes[0])


def _resume_rows(opts: SweepOptions, combos, context: dict, data_key: str, out: Path,
                 reporter: Reporter) -> tuple[dict[str, dict], list[RowState]]:
    """Rows finished by an earlier run of the same sweep on the same images (with --resume), and the rest."""
    done_rows: dict[str, dict] = {}
    pending: list[RowState] = []
    for combo in combos:
        key = combo.key(context)
        row_path = out / "rows" / f"{key}.json"
        done = read_json(row_path) if opts.resume else None
        if isinstance(done, dict) and done.get("key") == key and done.get("data_key") == data_key:
            done_rows[key] = done
            continue
        if opts.resume and row_path.is_file():
            why = "is damaged"
            if isinstance(done, dict) and done.get("key") == key:
                why = ("has no image-list key (an older effmod wrote it)" if "data_key" not in done
                       else "was computed on other images")
            reporter.warn(f"{row_path} {why}; computing that row again")
        pending.append(RowState(len(pending), combo, key))
    return done_rows, pending


def _summary(opts: SweepOptions, model, ref, rows: list[dict], notes: list[str], scheduler: Scheduler,
             latency_node: NodeInfo, reference: RowState, engine: dict) -> dict:
    """results.json, less the files it names."""
    from ...machine import machine_info
    from ...versions import installed

    ref_top1, ref_top5 = topk_hits(ref.logits, ref.labels)
    packages = ["torch", *dict.fromkeys(p for t in TARGETS for p in t.packages), "ray"]
    return {
        "model": opts.model, "weights": opts.weights, "weights_sha256": model.info.weights.sha256,
        "data": str(opts.data), "images": len(ref.labels), "unreadable": len(ref.unreadable),
        "img_size": opts.img_size, "calib": opts.calib, "threads": opts.threads,
        "pytorch_fp32": {"top1": round(ref_top1, 3), "top5": round(ref_top5, 3)},
        "rows": rows, "skipped": notes, "machine": machine_info(),
        "engine": {**engine, "shards_computed": scheduler.shards_computed, "latency_node": latency_node.label,
                   "reference_eval_task_seconds": round(eval_seconds(reference)[1], 2)},
        "versions": {p: installed(p) for p in packages},
    }


def _kept(out: Path, opts: SweepOptions) -> str:
    rows = len(list((out / "rows").glob("*.json")))
    shards = len(list((out / "shards").glob("*/*.npz")))
    resume = opts.command_line or "the same effmod sweep command with --resume"
    return f"kept {rows} finished row(s) and {shards} shard(s) in {out}; resume with: {resume}"


def _run_scheduler(scheduler: Scheduler, opts: SweepOptions, out: Path, reporter: Reporter) -> None:
    """Run the sweep to its end, within --timeout; stopped early (timeout, Ctrl-C, SIGTERM), it says in one
    line what it kept and how to resume (the backend is closed by the caller's finally)."""
    deadline = time.monotonic() + opts.timeout if opts.timeout else None
    try:
        scheduler.run(deadline, on_stall=reporter.warn)
    except SweepTimeout:
        raise EffmodError(f"the sweep ran past --timeout {opts.timeout} s and was stopped: {_kept(out, opts)}") from None
    except (KeyboardInterrupt, SystemExit, interrupts.Interrupted):
        interrupts.set_message(_kept(out, opts))
        raise


def run_sweep(opts: SweepOptions, reporter: Reporter) -> dict:
    from .report import write_reports

    check_options(opts)
    combos, notes = build_grid(opts.targets, opts.precisions, opts.calib_sizes, opts.fallbacks)
    earlier = _earlier_results(opts)
    out = Path(opts.output)
    model = load_model(opts.model, opts.weights, opts.num_classes, opts.img_size)
    if model.info.weights is None:
        raise EffmodError("a sweep needs trained weights (accuracy of random weights means nothing)",
                          hint="pass --weights (a checkpoint or a built-in tag such as cifar10)")
    data_config = model.info.data_config
    opts = replace(opts, num_classes=model.num_classes, img_size=data_config.img_size)
    samples = _samples(opts, model)
    if opts.arm64 is not None:
        arm.prepare(opts.arm64, [c.target for c in combos], reporter)  # toolchain and CPU names, before any work
    cache = Path(opts.cache or opts.output).resolve()
    calib = str(Path(opts.calib).resolve()) if opts.calib else None
    spec = SweepSpec(opts.model, _shared_weights(opts.weights), model.num_classes, data_config.img_size, calib,
                     opts.seed, opts.threads, str(cache))
    shards = shard_list(samples, opts.shard_size)
    data_key = hashlib.sha256(json.dumps({"files": [s.paths for s in shards], "labels": [s.labels for s in shards],
                                          "config": data_config.to_dict()}, sort_keys=True).encode()).hexdigest()[:16]
    context = {"model": opts.model, "weights_sha256": model.info.weights.sha256, "img_size": opts.img_size,
               "num_classes": opts.num_classes, "seed": opts.seed, "calib": calib}
    for n in notes:
        reporter.line(f"[dim]skipped: {n}[/]")

    done_rows, pending = _resume_rows(opts, combos, context, data_key, out, reporter)
    ref_key = "reference-" + hashlib.sha256(json.dumps({**context, "data": data_key}, sort_keys=True)
                                            .encode()).hexdigest()[:12]
    reference = RowState(REFERENCE, None, ref_key)
    store = ShardStore(out / "shards", data_key)
    shared = _shared_paths(opts, spec)

    backend = open_backend(opts, reporter, shared)
    finished: dict[str, dict] = {}
    try:
        _prepare_output(opts, earlier)
        clean_stale_temp(cache / "artifacts")
        latency_node = _latency_node(backend)
        reporter.line(f"[dim]{len(combos)} rows ({len(done_rows)} already done), {len(shards)} shards of "
                      f"{opts.shard_size} images each[/]")
        reporter.line(f"[dim]running on {backend.kind}: {len(backend.nodes)} node(s), "
                      f"{sum(n.cpus for n in backend.nodes)} CPUs, {backend.capacity} task(s) at a time; "
                      f"latency on {latency_node.label}, reserved whole[/]")
        if backend.dashboard:
            reporter.line(f"Ray dashboard: http://{backend.dashboard}")
        console = getattr(reporter, "console", None)
        view = SweepView(console, len(combos), (len(pending) + 1) * len(shards), len(done_rows)) \
            if console is not None else NullView()

        def on_row(state: RowState, outcome: dict) -> None:
            row = {**_row(state, outcome, out, scheduler, latency_node), "data_key": data_key}
            atomic_json(row, out / "rows" / f"{state.key}.json")
            finished[state.key] = row
            view.row_done(_row_line(row))

        scheduler = Scheduler(backend, spec, data_key, shards, pending, reference, store, opts.bench_runs,
                              latency_node, opts.eval_chunk, on_row, view, opts.latency_rounds)
        with view:
            _run_scheduler(scheduler, opts, out, reporter)
        nodes = [{"id": n.node_id, "label": n.label, "address": n.address, "cpus": n.cpus} for n in backend.nodes]
        backend_kind = backend.kind
    finally:
        backend.close()
    if reference.failed:
        raise EffmodError(f"the PyTorch fp32 reference could not be computed: {reference.failed}",
                          hint="rerun with --no-ray --debug to see the traceback")
    ref = reference.merged
    rows = [done_rows.get(c.key(context)) or finished[c.key(context)] for c in combos]
    if opts.arm64 is not None:
        arm.add_arm64(rows, spec, data_key, shards[0], out, opts.arm64, reporter)
    if ref.unreadable:
        reporter.warn(f"{len(ref.unreadable)} unreadable images skipped (first: {ref.unreadable[0]})")
    result = _summary(opts, model, ref, rows, notes, scheduler, latency_node, reference,
                      {"kind": backend_kind, "nodes": nodes, "workers": backend.capacity, "shard_size": opts.shard_size,
                       "shards": len(shards)})
    result["files"] = write_reports(result, out, ref.logits)
    return result


def _row(state: RowState, outcome: dict, out: Path, scheduler: Scheduler, latency_node: NodeInfo) -> dict:
    """The row of results.json for a finished (or failed) combination."""
    combo = state.combo
    row = {"key": state.key, "target": combo.target, "precision": combo.precision, "calib_size": combo.calib_size,
           "fallback": combo.fallback, "label": combo.label, "status": outcome["status"]}
    wall, task_s = eval_seconds(state)
    timing = {"export_seconds": round(state.export.export_s, 1) if state.export else None,
              "export_cached": state.export.cached if state.export else None,
              "eval_seconds": round(wall, 2), "eval_task_seconds": round(task_s, 2),
              "shards": len(state.shards), "shards_reused": state.reused, "nodes": scheduler.nodes_of(state)}
    if outcome["status"] != "ok":
        return {**row, "reason": outcome["reason"], **timing}
    manifest = Manifest.for_artifact(state.export.artifact)
    fb = manifest.recipe.auto_fallback
    accuracy = dict(state.accuracy)
    logits = accuracy.pop("logits")
    lat = outcome["latency"]
    row.update(artifact=state.export.artifact, size_mb=round(manifest.artifact_bytes / 1e6, 3),
               parity=manifest.parity.status, kept_float=list(fb.kept_float) if fb else [],
               float_params_fraction=fb.float_params_fraction if fb else None, export_warnings=state.export.warnings,
               run_by=next(iter(state.shards.values())).engine, **accuracy,
               logits_file=save_logits(logits, out / "rows" / f"{state.key}.logits.npy"),
               latency_ms=lat.median_ms if lat else None,
               latency_note=(lat.note if lat else "--bench-runs 0"),
               latency_node=lat.node if lat else None,
               latency_cpus=f"{lat.cpus_reserved} (the node's all); host has {lat.host_cores} cores" if lat else None,
               latency_load=[lat.load_before, lat.load_after] if lat else None,
               latency_seconds=round(lat.seconds, 2) if lat else None,
               latency_rounds=list(lat.rounds) if lat else [], latency_spread=lat.spread if lat else None,
               cost=manifest.cost.to_dict() if manifest.cost else None,
               latency_others_cpu_s=lat.others_cpu_s if lat else None, **timing)
    return row


def _row_line(row: dict) -> str:
    if row["status"] != "ok":
        from rich.markup import escape

        return f"[red]✗[/] {row['label']}: {escape(row['reason'])}"
    lat = f"{row['latency_ms']:.2f} ms" if row["latency_ms"] is not None else "not timed"
    return (f"[green]✓[/] {row['label']}: top-1 {row['top1']:.2f}%  agreement {row['agreement']:.2f}%  "
            f"SQNR {row['sqnr_db']:.1f} dB  {row['size_mb']:.1f} MB  {lat}")
