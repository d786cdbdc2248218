"""Where the sweep's tasks run: Ray (a local instance by default, or a cluster) or this process.

Both engines take the same ``Task`` records and hand back ``Done`` records, so the driver's bookkeeping
(shards written before they count, failed rows, --resume) is one piece of code whichever runs them."""
from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from ...errors import EffmodError, first_line

TaskKind = Literal["export", "shard", "latency", "probe"]
# A task whose worker process or node dies is run again this many times; an exception raised by the
# task itself (a real failure of the combination) is not retried: it becomes the row's reason.
RETRIES = 3


@dataclass
class Task:
    kind: TaskKind
    name: str                     # what the progress view and the Ray dashboard show
    fn: Callable
    args: tuple
    cpus: int = 1
    node_id: str | None = None    # pin to this node (latency: the reference node, reserved whole)
    tag: Any = None               # the driver's own bookkeeping (row index, shard index)
    id: int = field(default_factory=itertools.count().__next__)


@dataclass
class Done:
    task: Task
    result: Any = None
    error: str | None = None      # one line: why it failed (after retries where the worker died)


@dataclass
class NodeInfo:
    node_id: str
    address: str
    cpus: int
    host: str = ""

    @property
    def label(self) -> str:
        from .work import node_label

        return node_label(self.host, self.node_id) if self.node_id != "local" else self.host


class InlineBackend:
    """Every task in this process, one at a time, in submission order (``--no-ray``): the single-process
    path, for debugging (``--debug`` shows a task's traceback) and machines without Ray."""

    kind = "this process"
    dashboard = None

    def __init__(self, debug: bool = False):
        self.debug = debug
        self._queue: list[Task] = []
        self.nodes = [NodeInfo("local", "127.0.0.1", os.cpu_count() or 1, socket.gethostname())]
        self.capacity = 1

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def in_flight(self) -> int:
        return len(self._queue)

    def wait(self, timeout: float = 1.0) -> list[Done]:
        from ...console import captured_output

        if not self._queue:
            return []
        task = self._queue.pop(0)
        try:
            with captured_output(not self.debug):  # converters print; the progress view stays readable
                return [Done(task, task.fn(*task.args))]
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - a failed task is a failed row, the sweep goes on
            if self.debug:
                raise
            return [Done(task, error=one_line(e))]

    def running(self) -> dict[str, list[str]]:
        return {}

    def close(self) -> None:
        self._queue.clear()


def one_line(e: BaseException) -> str:
    return first_line(e, 300)


def check_address(address: str) -> None:
    """Fail fast with one line on an address nothing listens at (Ray itself waits long, then prints pages)."""
    if address == "auto":
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise EffmodError(f"--ray-address '{address}' is not auto or HOST:PORT",
                          hint="e.g. --ray-address 10.0.0.5:6379 (the head node's `ray start --head` port)")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise EffmodError(f"no Ray cluster answers at {address} ({e.strerror or e})",
                          hint="start one with `ray start --head` on that machine, or leave out --ray-address "
                               "for a local instance") from None


def import_ray():
    try:
        import ray
    except ImportError:
        raise EffmodError("Ray is not installed: effmod sweep runs its grid on Ray",
                          hint="pip install 'effmod[cluster]' (or --no-ray to run every task in this process)") from None
    return ray


def fit(nodes: list[NodeInfo], threads: int, workers: int | None) -> int:
    """How many tasks of ``threads`` CPUs the nodes can run at once, node by node (a task cannot span
    nodes); refused in one line when no node can hold one, before anything is submitted."""
    if not nodes or max(n.cpus for n in nodes) < 1:
        raise EffmodError("the Ray cluster has no CPUs", hint="add a node with `ray start --address`")
    per_node = sum(n.cpus // threads for n in nodes)
    if per_node < 1:
        largest = max(nodes, key=lambda n: n.cpus)
        raise EffmodError(f"no node of the Ray cluster can hold a task of {threads} CPUs (--threads {threads}): the "
                          f"largest, {largest.address}, has {largest.cpus}",
                          hint=f"pass --threads {largest.cpus}, or add nodes with at least {threads} CPUs")
    return max(1, min(workers, per_node)) if workers else per_node


class RayBackend:
    """Tasks as Ray remote functions, each reserving ``cpus`` CPUs; at most ``capacity`` in flight."""

    def __init__(self, address: str | None, workers: int | None, threads: int, debug: bool = False):
        ray = self.ray = import_ray()
        if address is not None:
            check_address(address)
        kwargs = dict(log_to_driver=debug, logging_level=logging.WARNING if debug else logging.ERROR,
                      configure_logging=True)
        try:
            if address is None:
                self.kind = "local Ray instance"
                # "local": a new instance even where RAY_ADDRESS points at a cluster (that takes --ray-address)
                ctx = ray.init(address="local", num_cpus=os.cpu_count() or 1, **kwargs)
            else:
                self.kind = f"Ray cluster at {address}"
                ctx = ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError) as e:
            if "auth" in f"{e} {e.__cause__}".lower():
                raise EffmodError(f"the Ray cluster at {address} refused this driver: its authentication token is "
                                  "missing or wrong",
                                  hint="set RAY_AUTH_MODE=token and give this machine the head's token "
                                       "(~/.ray/auth_token, or RAY_AUTH_TOKEN)") from None
            raise EffmodError(f"cannot join the Ray cluster at {address}: {one_line(e)}",
                              hint="check the address (`ray status` on the head node prints it), or leave out "
                                   "--ray-address for a local instance") from None
        self.dashboard = getattr(ctx, "dashboard_url", None) or None
        self.nodes = [NodeInfo(n["NodeID"], n["NodeManagerAddress"], int(n["Resources"].get("CPU", 0)),
                               n.get("NodeManagerHostname", ""))
                      for n in ray.nodes() if n.get("Alive")]
        self.driver_node = ray.get_runtime_context().get_node_id()
        try:
            self.capacity = fit(self.nodes, threads, workers)
        except EffmodError:
            ray.shutdown()  # nothing was submitted: leave the cluster as it was
            raise
        self._remote: dict[Callable, Any] = {}
        self._pending: dict[Any, Task] = {}
        self._state_checked = 0.0
        self._running: dict[str, list[str]] = {}
        self._job = ray.get_runtime_context().get_job_id()  # this sweep's tasks only: a cluster runs others too

    def submit(self, task: Task) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = self._remote.get(task.fn)
        if remote is None:
            remote = self._remote[task.fn] = self.ray.remote(task.fn)
        opts = dict(num_cpus=task.cpus, max_retries=RETRIES, retry_exceptions=False, name=task.name)
        if task.node_id is not None:
            opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(task.node_id, soft=False)
        self._pending[remote.options(**opts).remote(*task.args)] = task

    def in_flight(self) -> int:
        return len(self._pending)

    def wait(self, timeout: float = 1.0) -> list[Done]:
        ray = self.ray
        if not self._pending:
            return []
        ready, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=timeout)
        done = []
        for ref in ready:
            task = self._pending.pop(ref)
            try:
                done.append(Done(task, ray.get(ref)))
            except ray.exceptions.RayTaskError as e:
                cause = e.cause if isinstance(getattr(e, "cause", None), BaseException) else e
                done.append(Done(task, error=one_line(cause)))
            except ray.exceptions.RayError as e:  # worker/node died RETRIES+1 times, or unschedulable
                done.append(Done(task, error=f"its worker died {RETRIES + 1} times ({type(e).__name__}): "
                                             f"{one_line(e)}"[:300]))
        return done

    def running(self) -> dict[str, list[str]]:
        """node label -> names of the tasks running there (Ray's state API, polled every few seconds)."""
        if time.monotonic() - self._state_checked < 3:
            return self._running
        self._state_checked = time.monotonic()
        try:
            from ray.util.state import list_tasks

            by_id = {n.node_id: n.label for n in self.nodes}
            running: dict[str, list[str]] = {}
            # the address: with two Ray instances on one machine, Ray cannot tell which one is meant
            for t in list_tasks(address=self.ray.get_runtime_context().gcs_address,
                                filters=[("state", "=", "RUNNING"), ("job_id", "=", self._job)], timeout=2,
                                raise_on_missing_output=False):
                running.setdefault(by_id.get(t.node_id, (t.node_id or "?")[:8]), []).append(t.name)
            self._running = running
        except Exception:  # noqa: BLE001 - no dashboard (plain `ray`): the view shows counts only
            self._running = {}
        return self._running

    def waiting(self) -> str | None:
        """When this sweep's tasks are in flight but none runs: how many wait, in which Ray state."""
        try:
            from ray.util.state import list_tasks

            tasks = list_tasks(address=self.ray.get_runtime_context().gcs_address,
                               filters=[("state", "!=", "FINISHED"), ("job_id", "=", self._job)], timeout=5,
                               raise_on_missing_output=False)
        except Exception:  # noqa: BLE001 - no state API (no dashboard): Ray's resource accounting
            return self._resources_said()
        states: dict[str, int] = {}
        for t in tasks:
            states[t.state] = states.get(t.state, 0) + 1
        if any(st == "RUNNING" for st in states):
            return None
        said = ", ".join(f"{n} {st}" for st, n in sorted(states.items())) or f"{len(self._pending)} task(s) submitted"
        return f"{said} (Ray: PENDING_NODE_ASSIGNMENT waits for free CPUs, which other jobs may hold; a dead node's " \
               "tasks are retried elsewhere)"

    def _resources_said(self) -> str:
        """What the cluster's own accounting (GCS, no dashboard needed) says about free CPUs and nodes."""
        ray = self.ray
        try:
            free, total = ray.available_resources().get("CPU", 0), ray.cluster_resources().get("CPU", 0)
            alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
        except Exception as e:  # noqa: BLE001 - the cluster itself does not answer
            return f"{len(self._pending)} task(s) submitted; the cluster does not answer ({one_line(e)})"
        dead = [n.label for n in self.nodes if n.node_id not in alive]
        said = f"{len(self._pending)} task(s) submitted, none running; {free:g} of {total:g} CPUs free in the cluster"
        return said + (f"; node(s) {', '.join(dead)} died" if dead else " (other jobs hold the rest)")

    def close(self) -> None:
        for ref in list(self._pending):
            with contextlib.suppress(Exception):  # already finished or gone
                self.ray.cancel(ref, force=True)
        self._pending.clear()
        self.ray.shutdown()


def probe_paths(paths: list[str]) -> tuple[str, list[str]]:
    """Run on each node: which of ``paths`` it cannot see."""
    return socket.gethostname(), [p for p in paths if not Path(p).exists()]


def check_shared_paths(engine: RayBackend, paths: dict[str, str]) -> None:
    """Every node must see the cache, the data, the weights and the calibration folder (a shared
    filesystem): one task per node looks, and a node that cannot see one is named."""
    ray = engine.ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(probe_paths)
    refs = {probe.options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(n.node_id, soft=False))
            .remote(list(paths.values())): n for n in engine.nodes}
    for ref, node in refs.items():
        host, missing = ray.get(ref, timeout=120)
        if missing:
            what = next(k for k, v in paths.items() if v == missing[0])
            raise EffmodError(f"node {node.address} ({host}) cannot see the {what} {missing[0]}",
                              hint="every node needs the same path: put --cache, --data, --calib and the weights on "
                                   "a filesystem all nodes mount")
