"""The sweep's units of work, as plain functions of typed records: one export per combination, one
evaluation per (combination, shard of images), one latency measurement per artifact.

They run wherever the engine puts them (this process, or a Ray worker on another node), so they take
only paths every node sees and rebuild what they need (model, decoded images) there, cached per
process and, for decoded images, in the shared cache folder."""
from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import statistics
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import interrupts
from ...errors import EffmodError
from .grid import Combo


@dataclass(frozen=True)
class SweepSpec:
    """What every task needs to rebuild the model and its exports: absolute paths only."""

    model: str
    weights: str | None          # built-in tag or absolute path
    num_classes: int
    img_size: int
    calib: str | None            # absolute path, or None (built-in photos)
    seed: int
    threads: int
    cache: str                   # absolute: exports and decoded shards, seen by every node


@dataclass(frozen=True)
class Shard:
    """A slice of the evaluation list; paths are absolute so any node can decode them."""

    index: int
    paths: tuple[str, ...]
    labels: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self.index:05d}"


@dataclass
class ExportRecord:
    key: str
    artifact: str
    export_s: float
    cached: bool
    warnings: list[str]
    node: str


@dataclass
class ShardResult:
    """Logits of the shard's readable images (``kept``: their positions in the shard)."""

    key: str
    shard: int
    logits: np.ndarray
    kept: np.ndarray
    unreadable: list[str]
    node: str
    engine: str
    started: float               # time.time() on the worker
    seconds: float
    pid: int = 0                 # the worker process that computed it


@dataclass
class LatencyRecord:
    median_ms: float | None
    note: str | None
    node: str
    cpus_reserved: int           # all of the node's (Ray) CPUs
    host_cores: int              # two Ray nodes on one host share its cores: say how many there are
    load_before: float           # 1-minute load average of the node (lags: it still shows earlier tasks)
    load_after: float
    seconds: float = 0.0         # the task's wall time (a fresh process: import, load, warm-up, runs)
    others_cpu_s: float | None = None  # CPU seconds the node spent on anything but this measurement
    rounds: tuple[float, ...] = ()     # the median of each interleaved round (median_ms: their median)
    spread: float | None = None        # (slowest - fastest round) / median_ms

    @classmethod
    def of_rounds(cls, medians: list[float], note: str | None, **where) -> LatencyRecord:
        if not medians:
            return cls(None, note, **where)
        mid = statistics.median(medians)
        return cls(round(mid, 3), note, **where, rounds=tuple(medians),
                   spread=round((max(medians) - min(medians)) / mid, 4) if mid else None)


def node_name() -> str:
    """host:ray-node-id (two Ray nodes may share a host), or the host alone outside Ray."""
    import sys

    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return node_label(socket.gethostname(), ray.get_runtime_context().get_node_id())
    return socket.gethostname()


def node_label(host: str, node_id: str) -> str:
    return f"{host}:{node_id[:8]}"


def export_options(spec: SweepSpec, combo: Combo, output: str):
    from ...pipeline import ExportOptions

    return ExportOptions(targets=[combo.target], model=spec.model, weights=spec.weights,
                         num_classes=spec.num_classes, img_size=spec.img_size, precision=combo.precision,
                         calib=spec.calib if combo.precision == "int8" else None,
                         calib_size=combo.calib_size or 256, auto_fallback=combo.fallback == "auto",
                         seed=spec.seed, output=output, force=True, threads=spec.threads)


@functools.lru_cache(maxsize=2)
def load_spec_model(spec: SweepSpec):
    """The model, once per worker process (a worker runs many tasks of one sweep)."""
    from ...pipeline import load_model

    return load_model(spec.model, spec.weights, spec.num_classes, spec.img_size).eval()


def read_json(path: Path):
    """A file a sweep wrote earlier, or None when it is missing or damaged (then it is made again)."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def atomic_json(obj, path: Path) -> None:
    interrupts.check()  # a row or shard is never made final after Ctrl-C/SIGTERM, even if a library swallowed it
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def export_task(spec: SweepSpec, combo: Combo, key: str) -> ExportRecord:
    """The combination's artifact: from the cache when its hash folder is complete, else exported into
    a temp folder and renamed into place (a killed export leaves no half-written cache entry)."""
    from ...console import NullReporter
    from ...manifest import Manifest, artifact_sha256
    from ...targets import by_name
    from ...pipeline import export_one
    from ...placement import temp_dir

    art_root = Path(spec.cache) / "artifacts"
    art_root.mkdir(parents=True, exist_ok=True)
    dest = art_root / key
    cached = read_json(dest / "export.json")
    # A damaged entry (unreadable, or bytes that are no longer what its manifest recorded) is exported again.
    with contextlib.suppress(KeyError, TypeError, OSError, EffmodError):
        artifact = dest / cached["artifact"]
        if Manifest.for_artifact(artifact).artifact_sha256 == artifact_sha256(artifact):
            return ExportRecord(key, str(artifact), cached["export_s"], True, cached["warnings"], node_name())
    reporter = NullReporter()
    tmp = temp_dir(art_root)
    try:
        t0 = time.perf_counter()
        manifest = export_one(load_spec_model(spec), by_name(combo.target), combo.precision,
                              export_options(spec, combo, str(tmp)), reporter)
        export_s = time.perf_counter() - t0
        atomic_json({"artifact": manifest.artifact, "export_s": export_s, "warnings": reporter.warnings},
                    tmp / "export.json")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportRecord(key, str(dest / manifest.artifact), export_s, False, reporter.warnings, node_name())


def decoded_shard(spec: SweepSpec, data_key: str, shard: Shard):
    """uint8 NCHW images of the shard's readable files and their positions, decoded once for the whole
    sweep: the first task that needs a shard writes it to the cache, the others read it."""
    from ...eval.datasets import decode_samples

    path = Path(spec.cache) / "data" / data_key / f"{shard.name}.npz"
    with contextlib.suppress(OSError, KeyError, ValueError), np.load(path, allow_pickle=False) as z:
        return z["images"], z["kept"], [str(p) for p in z["unreadable"]]
    config = load_spec_model(spec).info.data_config
    samples = [(Path(p), lbl) for p, lbl in zip(shard.paths, shard.labels)]
    images, _, paths, bad = decode_samples(samples, config)
    position = {p: i for i, p in enumerate(shard.paths)}
    kept = np.array([position[str(p)] for p in paths], dtype=np.int64)
    images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, images=images, kept=kept, unreadable=np.array([str(p) for p in bad], dtype=str))
    os.replace(tmp, path)
    return images, kept, [str(p) for p in bad]


@functools.lru_cache(maxsize=1)
def _open_artifact(artifact: str, threads: int):
    """The last artifact's runner stays loaded: a worker usually evaluates several shards of one row."""
    from ...manifest import Manifest
    from ...targets import load_runner

    return load_runner(artifact, threads=threads, input_spec=Manifest.for_artifact(artifact).input)


def evaluate_shard(spec: SweepSpec, data_key: str, shard: Shard, key: str, artifact: str | None,
                   chunk: int = 64) -> ShardResult:
    """Logits of one shard: ``artifact`` in its real runtime, or the PyTorch fp32 model (None)."""
    import torch

    from ...eval.datasets import normalize
    from ...pipeline import run_artifact  # a runtime failure names the artifact and its engine

    started, t0 = time.time(), time.perf_counter()
    images, kept, bad = decoded_shard(spec, data_key, shard)
    model = load_spec_model(spec)
    config = model.info.data_config
    if artifact is None:
        torch.set_num_threads(spec.threads)
        engine = f"PyTorch {torch.__version__}"
        with torch.no_grad():
            outs = [model(normalize(torch.from_numpy(images[i:i + 256]), config)).numpy()
                    for i in range(0, len(images), 256)]
    else:
        runner = _open_artifact(artifact, spec.threads)
        engine = runner.engine
        outs = [np.asarray(run_artifact(runner, normalize(torch.from_numpy(images[i:i + chunk]), config).numpy()),
                           np.float32) for i in range(0, len(images), chunk)]
    logits = np.concatenate(outs) if outs else np.zeros((0, spec.num_classes), np.float32)
    return ShardResult(key, shard.index, logits.astype(np.float32), kept, bad, node_name(), engine, started,
                       time.perf_counter() - t0, os.getpid())


def latency_task(artifacts: list[str], threads: int, runs: int, rounds: int,
                 cpus_reserved: int) -> list[LatencyRecord]:
    """Every artifact of the sweep timed in interleaved rounds on a node this task has reserved whole:
    each round times each artifact once (``_time_round``: ``runs / rounds`` runs, a fresh process per
    runtime), so a change in the node's speed (these VMs flip between two speeds ~1.6x apart, process to
    process) hits every row alike.
    A row's latency is the median of its round medians; the spread of those says how far to trust it."""
    before, t0 = os.getloadavg()[0], time.perf_counter()
    busy0, own0 = _busy_cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    per_round = max(1, -(-runs // rounds))
    medians: dict[str, list[float]] = {a: [] for a in artifacts}
    notes: dict[str, str] = {}
    for _ in range(rounds):
        for artifact, lat in _time_round(artifacts, notes, threads, per_round).items():
            if lat["status"] == "ok":
                medians[artifact].append(lat["median_ms"])
            else:
                notes[artifact] = lat["reason"]
    busy1, own1 = _busy_cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    others = None
    if busy0 is not None and busy1 is not None:
        own = (own1.ru_utime + own1.ru_stime) - (own0.ru_utime + own0.ru_stime)
        others = round(max(0.0, busy1 - busy0 - own), 2)
    seconds = (time.perf_counter() - t0) / max(1, len(artifacts))
    where = dict(node=node_name(), cpus_reserved=cpus_reserved, host_cores=os.cpu_count() or 1,
                 load_before=round(before, 2), load_after=round(os.getloadavg()[0], 2), seconds=seconds,
                 others_cpu_s=others)
    return [LatencyRecord.of_rounds(medians[a], notes.get(a), **where) for a in artifacts]


def _time_round(artifacts: list[str], skip: dict[str, str], threads: int, runs: int) -> dict[str, dict]:
    """One round: each runtime's artifacts together in one fresh process (identical graphs then share the
    process's speed), or one process each where its ``Target.timed_together`` says no."""
    from ...pipeline.latency import bench, bench_together
    from ...targets import for_artifact

    groups: dict[str, list[str]] = {}
    for a in artifacts:
        if a not in skip:
            groups.setdefault(for_artifact(a).name, []).append(a)
    out: dict[str, dict] = {}
    for group in groups.values():
        if for_artifact(group[0]).timed_together:
            out.update(bench_together(group, threads=threads, warmup=5, runs=runs, block=min(5, runs)))
        else:
            out.update({a: bench(a, threads=threads, warmup=5, runs=runs) for a in group})
    return out


def _busy_cpu_seconds() -> float | None:
    """CPU seconds this host has been busy since boot (/proc/stat; None where there is none)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def check_shard(result: ShardResult, shard: Shard, num_classes: int) -> None:
    """A shard that returns something other than [readable images, classes] finite-or-not floats is a
    failed row, never merged."""
    n = len(shard.paths)
    logits, kept = np.asarray(result.logits), np.asarray(result.kept)
    if kept.ndim != 1 or len(kept) + len(result.unreadable) != n or (len(kept) and (kept.min() < 0 or kept.max() >= n)):
        raise EffmodError(f"shard {shard.index} returned {len(kept)} image positions and {len(result.unreadable)} "
                          f"unreadable for {n} images")
    if logits.ndim != 2 or logits.shape != (len(kept), num_classes) or logits.dtype.kind != "f":
        raise EffmodError(f"shard {shard.index} returned logits of shape {tuple(logits.shape)} ({logits.dtype}) "
                          f"for {len(kept)} images, expected ({len(kept)}, {num_classes})")


@dataclass
class ShardStore:
    """Finished shards of a sweep's output, one .npz each, written before they count (``--resume``
    keeps them); ``computed.jsonl`` gets a line for every shard computed (not for those reused).
    ``data_key`` names the image list: a resumed sweep over other images (--data, --limit,
    --shard-size) never reuses a shard of these."""

    root: Path
    data_key: str

    def path(self, key: str, shard: int) -> Path:
        return self.root / key / f"{self.data_key}-{shard:05d}.npz"

    def load(self, key: str, shard: int) -> ShardResult | None:
        try:
            with np.load(self.path(key, shard), allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return ShardResult(key, shard, z["logits"], z["kept"], meta["unreadable"], meta["node"],
                                   meta["engine"], meta["started"], meta["seconds"], meta.get("pid", 0))
        except (OSError, KeyError, ValueError, json.JSONDecodeError):
            return None

    def save(self, result: ShardResult) -> None:
        path = self.path(result.key, result.shard)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"unreadable": result.unreadable, "node": result.node, "engine": result.engine,
                "started": result.started, "seconds": result.seconds, "pid": result.pid}
        tmp = path.with_name(f"{path.stem}.tmp.npz")
        np.savez(tmp, logits=result.logits, kept=result.kept, meta=np.array(json.dumps(meta)))
        os.replace(tmp, path)
        with open(self.root / "computed.jsonl", "a") as f:  # one line a computed shard: what --resume saved
            f.write(json.dumps({"key": result.key, "shard": result.shard, "node": result.node,
                                "seconds": round(result.seconds, 3), "pid": result.pid}) + "\n")
