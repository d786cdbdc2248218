"""The sweep driver's bookkeeping: which task of which row runs next, what a finished task means for
its row, and when a row is complete. Tasks run on a backend (Ray or this process); everything that
counts is written to the output folder first, so a killed driver loses nothing on ``--resume``."""
from __future__ import annotations

import heapq
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .backends import Done, Task
from .accuracy import accuracy_row
from .grid import Combo
from .work import (ExportRecord, LatencyRecord, Shard, ShardResult, ShardStore, SweepSpec, check_shard,
                   evaluate_shard, export_task, latency_task)

REFERENCE = -1   # the PyTorch fp32 reference is row -1: its shards come first, every row merges against it


@dataclass
class Merged:
    logits: np.ndarray
    labels: np.ndarray
    unreadable: list[str]


@dataclass
class RowState:
    index: int
    combo: Combo | None           # None: the reference
    key: str
    export: ExportRecord | None = None
    shards: dict[int, ShardResult] = field(default_factory=dict)
    reused: int = 0
    merged: Merged | None = None       # the reference: its logits and labels, merged over shards
    accuracy: dict | None = None       # a row: accuracy_row() against the reference, plus its logits
    failed: str | None = None
    finished: bool = False

    @property
    def label(self) -> str:
        return self.combo.label if self.combo else "PyTorch fp32 reference"


# in-flight tasks with none running this long are reported (EFFMOD_STALL_S: another bound)
STALL_S = float(os.environ.get("EFFMOD_STALL_S") or 60.0)


class SweepTimeout(Exception):
    """--timeout passed: the driver stops the sweep and says what it kept."""


class Scheduler:
    def __init__(self, backend, spec: SweepSpec, data_key: str, shards: list[Shard], rows: list[RowState],
                 reference: RowState, store: ShardStore, bench_runs: int, latency_node, chunk: int,
                 on_row: Callable[[RowState, dict], None], view, latency_rounds: int = 5):
        self.backend, self.spec, self.data_key, self.shards = backend, spec, data_key, shards
        self.rows, self.reference, self.store = rows, reference, store
        self.bench_runs, self.latency_node, self.chunk = bench_runs, latency_node, chunk
        self.latency_rounds = latency_rounds
        self._to_time: list[RowState] = []   # evaluated rows waiting for the timing rounds
        self._timing: list[RowState] = []    # rows of the latency task in flight
        self.on_row, self.view = on_row, view
        self._ready: list[tuple[tuple, int, Task]] = []
        self.shards_computed = 0

    # ------------------------------------------------------------------ queueing
    def _push(self, priority: tuple, task: Task) -> None:
        heapq.heappush(self._ready, (priority, task.id, task))

    def _queue_shards(self, row: RowState) -> None:
        artifact = row.export.artifact if row.export else None
        for shard in self.shards:
            kept = self.store.load(row.key, shard.index)
            if kept is not None and self._valid(kept, shard):
                row.shards[shard.index] = kept
                row.reused += 1
                continue
            name = f"evaluate {row.label} · shard {shard.index}/{len(self.shards)}"
            self._push((row.index, 1, shard.index),
                       Task("shard", name, evaluate_shard, (self.spec, self.data_key, shard, row.key, artifact,
                                                            self.chunk), cpus=self.spec.threads,
                            tag=(row.index, shard.index)))
        self.view.shards_reused(row.reused)

    def _valid(self, result: ShardResult, shard: Shard) -> bool:
        try:
            check_shard(result, shard, self.spec.num_classes)
            return True
        except Exception:  # noqa: BLE001 - a damaged shard file is computed again
            return False

    def start(self) -> None:
        self._queue_shards(self.reference)
        for row in self.rows:
            self._push((row.index, 0, 0), Task("export", f"export {row.label}", export_task,
                                               (self.spec, row.combo, row.key), cpus=self.spec.threads,
                                               tag=(row.index, None)))

    # ------------------------------------------------------------------ driving
    def run(self, deadline: float | None = None, on_stall: Callable[[str], None] | None = None) -> None:
        """Until every row is done. ``deadline`` (time.monotonic()) bounds the sweep (SweepTimeout); a sweep
        whose tasks are in flight with none running for STALL_S is reported to ``on_stall`` with Ray's word
        for what they wait on, once every STALL_S, never waited on in silence."""
        self.start()
        progress = time.monotonic()
        while self._ready or self.backend.in_flight():
            while self._ready and self.backend.in_flight() < self.backend.capacity:
                _, _, task = heapq.heappop(self._ready)
                if task.kind == "latency" or self._row(task.tag[0]).failed is None:
                    self.backend.submit(task)
            finished = self.backend.wait(timeout=1.0)
            for done in finished:
                self._finished(done)
            running = self.backend.running()
            self.view.refresh(running)
            now = time.monotonic()
            if finished or running:
                progress = now
            elif now - progress > STALL_S and on_stall is not None and hasattr(self.backend, "waiting"):
                why = self.backend.waiting()
                if why:
                    on_stall(f"nothing of this sweep has run for {now - progress:.0f} s: {why}")
                progress = now
            if deadline is not None and now > deadline:
                raise SweepTimeout()

    def _row(self, index: int) -> RowState:
        return self.reference if index == REFERENCE else self.rows[index]

    def _finished(self, done: Done) -> None:
        if done.task.kind == "latency":
            return self._timed(done)
        row = self._row(done.task.tag[0])
        if row.failed is not None:
            return
        if done.error is not None:
            what = {"export": "export", "shard": f"shard {done.task.tag[1]}"}[done.task.kind]
            return self._fail(row, f"{what}: {done.error}")
        if done.task.kind == "export":
            row.export = done.result
            self._queue_shards(row)
        elif done.task.kind == "shard":
            shard = self.shards[done.task.tag[1]]
            try:
                check_shard(done.result, shard, self.spec.num_classes)
            except Exception as e:  # noqa: BLE001 - garbage from a worker fails its row, never merged
                return self._fail(row, str(e))
            self.store.save(done.result)  # written before it counts
            self.shards_computed += 1
            row.shards[shard.index] = done.result
            self.view.shard_done(done.result.node)
        self._maybe_merge()

    def _maybe_merge(self) -> None:
        """Rows whose shards are all in merge once the reference's are; then their latency is measured."""
        if len(self.reference.shards) < len(self.shards):
            return
        if self.reference.merged is None:
            self.reference.merged = self.merge(self.reference)
            self.reference.finished = True
        for row in self.rows:
            if row.failed is None and row.accuracy is None and row.export and len(row.shards) == len(self.shards):
                try:
                    row.accuracy = self._accuracy(row)
                except Exception as e:  # noqa: BLE001 - shards that disagree with the reference's images
                    self._fail(row, str(e))
                    continue
                if self.bench_runs > 0:
                    self._to_time.append(row)
                else:
                    self._complete(row, None)
        self._maybe_time()

    def _maybe_time(self) -> None:
        """Once every row is evaluated (or failed), time all their artifacts together in interleaved rounds
        on the latency node (``latency_task``): rows timed one by one, minutes apart, are not comparable."""
        if not self._to_time or any(r.failed is None and r.accuracy is None for r in self.rows):
            return
        rows, self._to_time = self._to_time, []
        node = self.latency_node
        self._timing = rows
        self._push((len(self.rows), 2, 0), Task(
            "latency", f"latency of {len(rows)} artifact(s), {self.latency_rounds} interleaved rounds", latency_task,
            ([r.export.artifact for r in rows], self.spec.threads, self.bench_runs, self.latency_rounds, node.cpus),
            cpus=node.cpus, node_id=None if node.node_id == "local" else node.node_id, tag=(None, None)))

    def _timed(self, done: Done) -> None:
        rows, self._timing = self._timing, []
        if done.error is not None:  # the rows' accuracy stands; their latency says why it is missing
            n = self.latency_node
            records = [LatencyRecord(None, f"latency task failed: {done.error}"[:300], n.label, n.cpus, 0, 0.0, 0.0)
                       for _ in rows]
        else:
            records = done.result
        for row, record in zip(rows, records):
            self._complete(row, record)

    def merge(self, row: RowState) -> Merged:
        logits, labels, bad = [], [], []
        for shard in self.shards:
            r = row.shards[shard.index]
            logits.append(np.asarray(r.logits, np.float32))
            labels.append(np.asarray(shard.labels, np.int64)[np.asarray(r.kept, np.int64)])
            bad += r.unreadable
        return Merged(np.concatenate(logits), np.concatenate(labels), bad)

    def _accuracy(self, row: RowState) -> dict:
        for shard in self.shards:
            if not np.array_equal(row.shards[shard.index].kept, self.reference.shards[shard.index].kept):
                raise ValueError(f"shard {shard.index} read other images than the reference's "
                                 "(an image became unreadable between tasks?)")
        merged = self.merge(row)
        ref = self.reference.merged
        out = accuracy_row(merged.logits, ref.labels, ref.logits)
        out["logits"] = merged.logits
        return out

    def _fail(self, row: RowState, reason: str) -> None:
        row.failed = reason[:300]
        row.finished = True
        if row is self.reference:
            # No reference, no accuracy: the sweep stops. Unfinished rows are not written as failed, so
            # --resume after the cause is fixed computes them (their finished shards are kept).
            for r in self.rows:
                if not r.finished:
                    r.failed, r.finished = "the PyTorch reference failed", True
            self._ready.clear()
            return
        self.on_row(row, {"status": "failed", "reason": row.failed})
        self._maybe_time()

    def _complete(self, row: RowState, latency: LatencyRecord | None) -> None:
        row.finished = True
        self.on_row(row, {"status": "ok", "latency": latency})

    def nodes_of(self, row: RowState) -> list[str]:
        return sorted({r.node for r in row.shards.values()} | ({row.export.node} if row.export else set()))


def eval_seconds(row: RowState) -> tuple[float, float]:
    """Wall time of the row's evaluation (first shard start to last shard end, as the workers saw it)
    and its summed task time (the compute a cost estimate needs)."""
    results = list(row.shards.values())
    if not results:
        return 0.0, 0.0
    wall = max(r.started + r.seconds for r in results) - min(r.started for r in results)
    return wall, sum(r.seconds for r in results)


def shard_list(samples: list[tuple[Path, int]], size: int) -> list[Shard]:
    return [Shard(i // size, tuple(str(Path(p).resolve()) for p, _ in samples[i:i + size]),
                  tuple(int(lbl) for _, lbl in samples[i:i + size]))
            for i in range(0, len(samples), size)]
