"""effmod sweep on a real two-node Ray cluster started here (`ray start --head` + `ray start --address`,
one CPU each, in its own temp folder, and only it stopped at the end): the same rows as the single-process path, a worker killed in the
middle of a shard is retried, and a killed driver resumes without recomputing finished shards."""
from __future__ import annotations

import json
import os
import re
import shlex
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from effmod.cli import main

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'effmod[cluster]')")

BIN = Path(sys.executable).parent
VAL = Path(__file__).resolve().parents[1] / "effmod" / "weights" / "efficientmod_xxs_cifar10.val"
# Token authentication is what `ray start --head` turns on in Ray 2.60; with the mode named, every process
# needs the token: the cluster fixture writes its own (RAY_AUTH_TOKEN_PATH), so a fresh machine with no
# ~/.ray/auth_token works too.
ENV = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args: str) -> None:
    proc = subprocess.run([str(BIN / "ray"), *args], env=ENV, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="effray", dir="/tmp")  # Ray's unix socket paths must stay short
    token = Path(temp) / "auth_token"
    token.write_text(secrets.token_hex(32))
    ENV["RAY_AUTH_TOKEN_PATH"] = str(token)
    _ray("start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={temp}")
    try:
        _ray("start", f"--address=127.0.0.1:{port}", "--num-cpus=1")
        yield f"127.0.0.1:{port}", tmp_path_factory.mktemp("cluster-cache")
    finally:
        _stop(temp)


def _stop(temp: str) -> None:
    """Stop this cluster only (`ray stop` would stop every Ray instance on the machine): its core
    processes all name its temp folder; their workers and agents are their children."""
    def procs():
        # -ww: never cut the command lines to a terminal width (under pytest, COLUMNS cut them before the path)
        out = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True).stdout
        return [int(line.split()[0]) for line in out.splitlines() if temp in line and "ps -ww" not in line]

    for pid in procs():
        subprocess.run(["kill", "-TERM", str(pid)], capture_output=True)
    deadline = time.monotonic() + 10
    while procs() and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in procs():  # raylets drain slowly: the rest, with their children
        subprocess.run(["pkill", "-KILL", "-P", str(pid)], capture_output=True)
        subprocess.run(["kill", "-KILL", str(pid)], capture_output=True)


def _args(out: Path, *extra: str, targets="onnx", precisions="fp32,int8") -> list[str]:
    return ["sweep", "--weights", "cifar10", "--data", str(VAL), "--targets", targets, "--precisions", precisions,
            "--calib-sizes", "32", "--limit", "200", "--bench-runs", "3", "--threads", "1", "--output", str(out),
            *extra]


def _sweep(argv: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "effmod"), *argv], env=env or ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def _finish(proc: subprocess.Popen, timeout=900) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    return out


def _rows(out: Path) -> dict[str, dict]:
    return {r["label"]: r for r in json.loads((out / "results.json").read_text())["rows"]}


def _computed(out: Path) -> list[dict]:
    log = out / "shards" / "computed.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


@pytest.mark.slow
def test_cluster_rows_equal_the_single_process_rows(cluster, tmp_path):
    address, cache = cluster
    # one cache for both: the exports are made once, and the rows compare where the work was spread
    assert main(_args(tmp_path / "inline", "--no-ray", "--cache", str(cache))) == 0
    text = _finish(_sweep(_args(tmp_path / "ray", "--ray-address", address, "--cache", str(cache),
                                "--shard-size", "50")))
    assert f"Ray cluster at {address}: 2 node(s), 2 CPUs, 2 task(s) at a time" in text
    inline, on_ray = _rows(tmp_path / "inline"), _rows(tmp_path / "ray")
    assert set(inline) == set(on_ray) == {"onnx · fp32", "onnx · int8 · calib 32"}
    for label, a in inline.items():
        b = on_ray[label]
        assert a["status"] == b["status"] == "ok"
        for k in ("top1", "top5", "agreement"):
            assert a[k] == b[k], (label, k)
        assert abs(a["sqnr_db"] - b["sqnr_db"]) < 0.05
        la = np.load(tmp_path / "inline" / "rows" / a["logits_file"]).astype(np.float32)
        lb = np.load(tmp_path / "ray" / "rows" / b["logits_file"]).astype(np.float32)
        assert la.shape == lb.shape == (200, 10) and np.abs(la - lb).max() < 2e-2  # float16 files
        assert b["shards"] == 4 and b["eval_seconds"] > 0 and b["export_seconds"] > 0 and b["latency_ms"] > 0
        assert b["latency_others_cpu_s"] is not None and b["latency_cpus"].startswith("1 (the node's all)")
    result = json.loads((tmp_path / "ray" / "results.json").read_text())
    labels = {n["label"] for n in result["engine"]["nodes"]}
    assert len(labels) == 2
    ran_on = set().union(*(set(r["nodes"]) for r in on_ray.values()))
    assert ran_on == labels  # both nodes did work (two one-CPU tasks at a time)
    assert {r["latency_node"] for r in on_ray.values()} == {result["engine"]["latency_node"]}
    assert result["engine"]["shards_computed"] == 12  # reference + 2 rows, 4 shards each


@pytest.mark.slow
def test_worker_killed_mid_shard_is_retried(cluster, tmp_path):
    address, cache = cluster
    out = tmp_path / "kill-worker"
    proc = _sweep(_args(out, "--ray-address", address, "--cache", str(cache), "--shard-size", "100",
                        precisions="fp32"))
    killed = None
    deadline = time.monotonic() + 600
    while killed is None and proc.poll() is None and time.monotonic() < deadline:
        ps = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True).stdout
        for line in ps.splitlines():
            pid, _, title = line.strip().partition(" ")
            if title.startswith("ray::evaluate ") and "shard" in title:
                os.kill(int(pid), signal.SIGKILL)  # the worker process, in the middle of this shard
                killed = (int(pid), title)
                break
        time.sleep(0.02)
    assert killed is not None, "no evaluation task was seen running"
    _finish(proc)
    rows = _rows(out)
    assert [r["status"] for r in rows.values()] == ["ok"]
    done = _computed(out)
    assert len(done) == 4 and len({(d["key"], d["shard"]) for d in done}) == 4  # every shard, each once
    assert killed[0] not in {d["pid"] for d in done}  # the killed attempt produced nothing: a retry did


@pytest.mark.slow
def test_killed_driver_resumes_without_recomputing_shards(cluster, tmp_path):
    address, cache = cluster
    out = tmp_path / "kill-driver"
    argv = _args(out, "--ray-address", address, "--cache", str(cache), "--shard-size", "50")
    proc = _sweep(argv)
    deadline = time.monotonic() + 600
    while len(_computed(out)) < 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    before = {p: p.stat().st_mtime_ns for p in (out / "shards").glob("*/*.npz")}
    assert 5 <= len(before) < 12, f"{len(before)} shards written when the driver was killed"
    lines_before = len(_computed(out))
    assert not (out / "results.json").exists()

    _finish(_sweep([*argv, "--resume"]))
    after = _computed(out)[lines_before:]
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # finished shards untouched
    assert len(after) == 12 - len(before)                              # only the missing ones computed
    seen = [(d["key"], d["shard"]) for d in _computed(out)]
    assert len(seen) == len(set(seen)) == 12
    rows = _rows(out)
    assert all(r["status"] == "ok" for r in rows.values())
    result = json.loads((out / "results.json").read_text())
    reused = sum(r["shards_reused"] for r in rows.values())
    assert result["engine"]["shards_computed"] == len(after) and reused <= len(before)


def test_bad_cluster_input_is_one_line(tmp_path, capsys):
    port = _free_port()  # nothing listens there
    assert main(_args(tmp_path / "a", "--ray-address", f"127.0.0.1:{port}")) == 1
    text = capsys.readouterr().out
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in text and "Traceback" not in text
    assert main(_args(tmp_path / "b", "--ray-address", "auto", "--cache", "relative/cache")) == 1
    assert "--cache relative/cache is relative" in capsys.readouterr().out
    assert main(_args(tmp_path / "c", "--ray-address", "nonsense")) == 1
    assert "is not auto or HOST:PORT" in capsys.readouterr().out
    assert not any(tmp_path.rglob("*")), "a refused sweep wrote nothing"


def test_ray_missing_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as when not installed
    assert main(_args(tmp_path / "o")) == 1
    assert "pip install 'effmod[cluster]'" in capsys.readouterr().out


PROBE = """
import sys
from effmod.commands.sweep.backends import RayBackend, check_shared_paths
from effmod.errors import EffmodError
engine = RayBackend(sys.argv[1], None, 1)
try:
    check_shared_paths(engine, {"cache": sys.argv[2]})  # every node sees it: no error
    print("all nodes see the cache")
    try:
        check_shared_paths(engine, {"cache": sys.argv[2], "data folder": "/nonexistent/data"})
    except EffmodError as e:
        print(e)
finally:
    engine.close()
"""


@pytest.mark.slow
def test_a_node_that_cannot_see_a_path_is_named(cluster):
    # in a process of its own: Ray reads RAY_AUTH_MODE when it is first imported
    address, cache = cluster
    proc = subprocess.run([sys.executable, "-c", PROBE, address, str(cache)], env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "all nodes see the cache"
    assert re.match(r"node \S+ \(.+\) cannot see the data folder /nonexistent/data", lines[1]), lines


DUMPS = ("*** SIGTERM received", "PC: @", "Traceback", "*** Aborted")


def test_a_task_no_node_can_hold_is_refused_in_seconds(cluster, tmp_path):
    """Two 1-CPU nodes and --threads 2: every task would wait forever as infeasible. Refused before any
    submission, naming the largest node and the fix."""
    address, cache = cluster
    t0 = time.monotonic()
    proc = _sweep(_args(tmp_path / "o", "--ray-address", address, "--cache", str(cache), "--threads", "2"))
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1 and time.monotonic() - t0 < 60, text[-2000:]
    line = text.strip().splitlines()[-1]
    assert "no node of the Ray cluster can hold a task of 2 CPUs" in line and "has 1" in line
    assert "--threads 1" in line and not any(d in text for d in DUMPS)
    assert not (tmp_path / "o" / "rows").exists()  # nothing started


@pytest.mark.slow
@pytest.mark.parametrize("sig,rc", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_driver_says_what_it_kept_and_its_resume_line_works(cluster, tmp_path, sig, rc):
    address, cache = cluster
    out = tmp_path / f"sig{int(sig)}"
    argv = _args(out, "--ray-address", address, "--cache", str(cache), "--shard-size", "20", "--limit", "100",
                 precisions="fp32")
    proc = _sweep(argv)
    deadline = time.monotonic() + 600
    while len(_computed(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == rc, text[-3000:]
    line = text.strip().splitlines()[-1]
    assert re.search(r"kept \d+ finished row\(s\) and \d+ shard\(s\) in ", line) and "resume with: effmod sweep" in line
    assert not any(d in text for d in DUMPS), text[-3000:]
    kept = len(list((out / "shards").glob("*/*.npz")))
    assert f"and {kept} shard(s)" in line and kept >= 3
    # the cluster is still usable, and the printed command resumes the sweep
    resume = shlex.split(line.split("resume with: ", 1)[1])
    assert resume[0] == "effmod" and "--resume" in resume
    _finish(_sweep(resume[1:]))
    assert [r["status"] for r in _rows(out).values()] == ["ok"]


BLOCKER = r"""
import os, sys, time, ray
ray.init(address=sys.argv[1], log_to_driver=False)

@ray.remote(num_cpus=1)
class Hold:
    def ping(self):
        return os.getpid()

holds = [Hold.remote() for _ in range(2)]
ray.get([h.ping.remote() for h in holds])
print("holding", flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_a_sweep_on_a_full_cluster_says_why_it_waits_and_its_timeout_stops_it(cluster, tmp_path):
    """Another job holds every CPU: the sweep's tasks wait. It says so with Ray's state of them (not in
    silence), and --timeout stops it with one line."""
    address, cache = cluster
    blocker = subprocess.Popen([sys.executable, "-c", BLOCKER, address], env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert blocker.stdout.readline().strip() == "holding"
        proc = _sweep(_args(tmp_path / "o", "--ray-address", address, "--cache", str(cache), "--timeout", "15",
                            precisions="fp32"), env={**ENV, "EFFMOD_STALL_S": "4"})
        text, _ = proc.communicate(timeout=300)
    finally:
        blocker.kill()
        blocker.wait()
    assert proc.returncode == 1, text[-3000:]
    # Ray's own word: task states from its state API, or (no dashboard here) its CPU accounting
    assert "nothing of this sweep has run for" in text and ("PENDING" in text or "0 of 2 CPUs free" in text), text[-3000:]
    line = text.strip().splitlines()[-1]
    assert "ran past --timeout 15 s" in line and "resume with: effmod sweep" in line
