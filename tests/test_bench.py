"""effmod bench: host timing in real runtimes (structure, not speed), and the adb path against a
stand-in adb executable written here (no phone is reachable from these machines)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from effmod.cli import main

KEYS = {"median_ms", "p90_ms", "min_ms", "max_ms", "runs", "threads", "runtime", "runtime_version", "load_ms",
        "first_ms", "peak_rss_mb", "machine"}


@pytest.fixture(scope="module")
def artifacts(small_artifacts):
    return {p.suffix: p for p in small_artifacts.values()}


def test_bench_several_artifacts_one_table_and_json(artifacts, tmp_path):
    out = tmp_path / "b.json"
    rc = main(["bench", str(artifacts[".onnx"]), str(artifacts[".tflite"]), str(artifacts[".mlpackage"]),
               "--runs", "5", "--warmup", "1", "--json", str(out)])
    assert rc == 0
    rows = {r["artifact"].rsplit(".", 1)[1]: r for r in json.loads(out.read_text())["results"]}
    for kind in ("onnx", "tflite"):
        r = rows[kind]
        assert r["status"] == "ok" and KEYS <= r.keys(), r
        assert r["runs"] == 5 and r["threads"] == 2 and r["min_ms"] <= r["median_ms"] <= r["max_ms"]
        assert r["peak_rss_mb"] >= r["rss_after_import_mb"] > 0
    assert rows["onnx"]["runtime"] == "onnxruntime" and rows["tflite"]["runtime"] == "ai_edge_litert"
    from effmod.versions import coreml_predict_available

    if not coreml_predict_available():  # never a fake number for Core ML
        assert rows["mlpackage"]["status"] == "not_timed" and "macOS" in rows["mlpackage"]["reason"]


def test_bench_reports_each_artifacts_cost(artifacts, tmp_path, capsys):
    """The cost report beside the timing: from the manifest, or read from the artifact when its manifest
    has none (an artifact of an older effmod)."""
    import shutil

    from effmod.cost import CostReport

    from effmod.manifest import manifest_path

    bare = tmp_path / artifacts[".onnx"].name
    shutil.copy(artifacts[".onnx"], bare)
    old = json.loads(manifest_path(artifacts[".onnx"]).read_text())
    manifest_path(bare).write_text(json.dumps({k: v for k, v in old.items() if k != "cost"}))  # no cost in it
    out = tmp_path / "b.json"
    assert main(["bench", str(artifacts[".tflite"]), str(artifacts[".pte"]), str(bare), "--runs", "2",
                 "--warmup", "0", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]
    costs = [CostReport.from_dict(r["cost"]) for r in rows]
    assert all(c.int8_macs == 0 and c.float_islands >= 1 and c.macs > 0 for c in costs), costs
    assert costs[0].partitions == costs[1].partitions == 1 and costs[2].partitions is None
    assert costs[1].read_from == "lowered program" and costs[2].read_from == "artifact"
    assert "cost report" in capsys.readouterr().out


def test_artifacts_of_one_runtime_timed_together_in_one_process(artifacts, tmp_path):
    """The sweep's rounds time a runtime's artifacts in one worker (structure, not speed): each gets its
    median; Core ML, which cannot run here, is reported as not timed, never given a number."""
    import shutil

    from effmod.manifest import manifest_path
    from effmod.pipeline.latency import bench_together
    from effmod.versions import coreml_predict_available

    twin = tmp_path / artifacts[".tflite"].name
    shutil.copy(artifacts[".tflite"], twin)
    shutil.copy(manifest_path(artifacts[".tflite"]), manifest_path(twin))
    out = bench_together([artifacts[".tflite"], twin], runs=4, block=2)
    assert all(r["status"] == "ok" and r["median_ms"] > 0 for r in out.values()) and len(out) == 2, out
    if not coreml_predict_available():
        (r,) = bench_together([artifacts[".mlpackage"]], runs=2).values()
        assert r["status"] == "not_timed" and "macOS" in r["reason"]


def test_bench_missing_artifact_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "effmod.cli", "bench", str(tmp_path / "nope.onnx")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout.strip().splitlines() == [f"error: artifact not found: {tmp_path / 'nope.onnx'}"]


FAKE_ADB = r'''#!{python}
"""Stand-in adb: logs its argv, 'pushes' by copying into a fake device dir, prints benchmark output."""
import json, os, shutil, sys
args = sys.argv[1:]
with open(os.environ["FAKE_ADB_LOG"], "a") as f:
    f.write(json.dumps(args) + "\n")
if args[:1] == ["-s"]:
    args = args[2:]
if args[0] == "push":
    dst = os.path.join(os.environ["FAKE_DEVICE"], os.path.basename(args[2]))
    shutil.copy(args[1], dst)
elif args[0] == "shell" and "getprop ro.product.model" in args[1]:
    print("Pixel 8")
elif args[0] == "shell" and "getprop ro.product.cpu.abi" in args[1]:
    print("arm64-v8a")
elif args[0] == "shell" and "benchmark_model" in args[1]:
    print("INFO: Num threads: [2]")
    print("INFO: count=100 first=4310 curr=3950 min=3801 max=5122 avg=4012.5 std=210")
    print("INFO: Inference timings in us: Init: 15234, First inference: 4310, Warmup (avg): 4100, Inference (avg): 4012.5")
    print("INFO: Memory footprint delta from the start of the tool (MB): init=12.1 overall=25.6")
'''


def test_adb_path_with_a_stand_in_adb(artifacts, tmp_path):
    adb = tmp_path / "adb"
    adb.write_text(FAKE_ADB.replace("{python}", sys.executable))
    adb.chmod(adb.stat().st_mode | stat.S_IEXEC)
    runner = tmp_path / "benchmark_model"
    runner.write_bytes(b"\x7fELF fake")
    device = tmp_path / "device"
    device.mkdir()
    log = tmp_path / "adb.log"
    env = {**os.environ, "FAKE_ADB_LOG": str(log), "FAKE_DEVICE": str(device)}
    out = tmp_path / "phone.json"
    r = subprocess.run([sys.executable, "-m", "effmod.cli", "bench", str(artifacts[".tflite"]), "--adb", "--serial", "S1",
                        "--runner", str(runner), "--adb-path", str(adb), "--threads", "2", "--runs", "100",
                        "--json", str(out)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(out.read_text())["results"][0]
    assert result["runtime"] == "litert benchmark_model" and result["device"] == {"model": "Pixel 8", "abi": "arm64-v8a",
                                                                                  "serial": "S1"}
    assert result["mean_ms"] == pytest.approx(4.0125, abs=1e-3) and result["min_ms"] == pytest.approx(3.801)
    assert result["first_ms"] == pytest.approx(4.31) and result["load_ms"] == pytest.approx(15.234)
    assert result["runs"] == 100 and result["peak_rss_mb"] == 25.6
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(c[:2] == ["-s", "S1"] for c in calls)
    pushed = [c[4] for c in calls if c[2] == "push"]
    assert pushed == [f"/data/local/tmp/effmod/{artifacts['.tflite'].name}", "/data/local/tmp/effmod/benchmark_model"]
    run = next(c[3] for c in calls if c[2] == "shell" and "benchmark_model --graph" in c[3])
    assert "--num_threads=2" in run and "--num_runs=100" in run and "--use_xnnpack=true" in run
    assert (device / artifacts[".tflite"].name).is_file()


def test_adb_refuses_core_ml_and_missing_runner(artifacts, tmp_path):
    r = subprocess.run([sys.executable, "-m", "effmod.cli", "bench", str(artifacts[".mlpackage"]), "--adb", "--runner",
                        str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode == 1 and "--adb times .tflite and .pte" in r.stdout
    r = subprocess.run([sys.executable, "-m", "effmod.cli", "bench", str(artifacts[".tflite"]), "--adb", "--runner",
                        str(tmp_path / "missing")], capture_output=True, text=True)
    assert r.returncode == 1 and "--runner binary not found" in r.stdout
