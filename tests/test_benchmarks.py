"""The benchmark scripts' own logic: goal verdicts, Amdahl ceilings, profile buckets, RESULTS.md assembly.

The scripts time real runtimes and take minutes to an hour; these tests feed them small, known inputs
so a wrong verdict or a broken report is caught without timing anything."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(BENCH))


def _rows(naive_onnx=8.0, int8=(6.0, 5.0, 3.0), deploy_vs_naive=(1.1, 1.4, 1.8)):
    rows = []
    for t, q, dv in zip(("onnx", "tflite", "executorch"), int8, deploy_vs_naive):
        rows.append({"variant": "efficientmod_xxs", "target": t, "naive_fp32_alone_ms": naive_onnx if t == "onnx" else 9.0,
                     "deploy_fp32_alone_ms": 7.0 if t != "tflite" else 8.0, "deploy_int8_alone_ms": q,
                     "deploy_vs_naive": dv, "partitions_deploy": 1 if t == "tflite" else None,
                     "partitions_int8": 1 if t == "tflite" else None})
    return rows


def test_goal_check_verdicts_follow_the_numbers():
    lat = _load("latency")
    rows = _rows()
    lat.add_cross_runtime(rows)
    assert [r["int8_vs_naive_onnx_fp32"] for r in rows] == [1.33, 1.6, 2.67]
    goals = {g["goal"]: g for g in lat.goal_check(rows)}
    best = goals["best INT8 ≥ 2.5× naive ONNX fp32 (floor 2×)"]
    assert best["met"] and "executorch" in best["measured"]
    assert not goals["deploy fp32 ≥ 1.3× naive fp32 (onnx)"]["met"]
    assert goals["deploy fp32 ≥ 1.3× naive fp32 (onnx)"]["missed_by"] == "1.18×"
    assert goals["deploy fp32 ≥ 1.3× naive fp32 (tflite)"]["met"]
    # TFLite int8 5.0 vs ExecuTorch 3.0 ms: 1.67×, outside 1.2×
    assert not goals["TFLite within 1.2× of ExecuTorch (int8)"]["met"]
    assert goals["TFLite within 1.2× of ExecuTorch (fp32)"]["met"]  # 8.0 / 7.0 = 1.14

def test_goal_check_floor_and_miss():
    lat = _load("latency")
    rows = _rows(int8=(6.0, 5.0, 3.6))
    lat.add_cross_runtime(rows)
    best = lat.goal_check(rows)[0]
    assert best["met"] is False and best["floor_met"] is True and best["missed_by"] == "1.13×"
    assert lat.goal_verdict(best) == "no, floor met (short by 1.13×)"


def test_amdahl_ceiling():
    prof = _load("profile_ops")
    c = prof.amdahl({"categories": {"MAC ops": {"share": 0.5}}})
    assert c["ceiling_if_mac_free"] == 2.0 and c["ceiling_if_mac_4x"] == 1.6


@pytest.mark.parametrize("stack, bucket", [
    ("main;Method::execute;execute_instruction;opt_native_layer_norm_out;pthreadpool_parallelize", "portable layer_norm"),
    ("main;Method::execute;XnnpackBackend::execute;XNNExecutor::prepare_args;xnn_reshape_runtime",
     "XNNPACK re-plan per call (xnn_reshape_*)"),
    ("main;Method::execute;XnnpackBackend::execute;xnn_invoke_runtime;pthreadpool_parallelize", "XNNPACK compute"),
    ("main;Method::execute;execute_instruction;repeat_out", "portable repeat"),
    ("main;Method::execute;malloc", "other (runtime overhead)"),
    ("main;import_module;exec", None),
])
def test_profile_bucket_of(stack, bucket):
    assert _load("profile_ops").bucket_of(stack) == bucket


def test_report_assembles_from_results(tmp_path, monkeypatch):
    rep = _load("report")
    res = tmp_path / "results"
    res.mkdir()
    machine = {"cpu": "Test CPU", "cores": 2, "system": "Linux", "python": "3.11", "versions": {"torch": "2.13.0"}}
    rows = _rows()
    rows += [{**r, "variant": "efficientmod_xxs_bn"} for r in _rows()]
    for r in rows:
        r.update(naive_fp32_ms=9.0, deploy_fp32_ms=7.0, naive_fp32_alone_ms=r["naive_fp32_alone_ms"])
    (res / "latency.json").write_text(json.dumps({"machine": machine, "rows": rows, "goals": [
        {"goal": "best INT8 ≥ 2.5× naive ONNX fp32 (floor 2×)", "measured": "1.50×", "met": False, "floor_met": False,
         "missed_by": "1.67×"}]}))
    (res / "latency.md").write_text("| a |\n|---|\n| 1 |\n\nfooter\n\n| goal (xxs) | x |")
    prof = {"onnxruntime": {f: {"total_ms": 10.0, "categories": {"MAC ops": {"ms": 4.0, "share": 0.4},
                                                                  "norm": {"ms": 2.0, "share": 0.2}}}
                            for f in ("naive fp32", "deploy fp32", "deploy int8")},
            "executorch": {"naive fp32": {"program": {"XNNPACK delegate call": 35, "aten::repeat.out": 6},
                                          "sampled": {"shares": {"XNNPACK compute": 0.75, "portable repeat": 0.1}}}},
            "int8_ceiling": {"mac_share": 0.4, "ceiling_if_mac_free": 1.67, "ceiling_if_mac_4x": 1.43}}
    (res / "profile.json").write_text(json.dumps(prof))
    monkeypatch.setattr(rep, "RES", res)
    monkeypatch.setattr(rep, "HERE", tmp_path)
    rep.main()
    text = (tmp_path / "RESULTS.md").read_text()
    assert "Test CPU" in text and "**no** (short by 1.67×)" in text
    assert "35 XNNPACK partitions" in text and "repeat.out ×6" in text
    assert "at most 1.67× faster" in text
    assert "_missing: run `python benchmarks/export_time.py`_" in text  # absent results are named, not invented
