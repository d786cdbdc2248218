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
    """Issue #26's goals: cross-runtime from the alone timings, a runtime's own INT8 ratio from its run."""
    lat = _load("latency")
    rows = _rows()
    for r, own in zip(rows, (1.6, 2.1, 1.9)):
        r["int8_vs_deploy_fp32"] = own
    lat.add_cross_runtime(rows)
    assert [r["int8_vs_naive_onnx_fp32"] for r in rows] == [1.33, 1.6, 2.67]
    goals = {g["goal"]: g for g in lat.goal_check(rows)}
    best = goals["best INT8 ≥ 3× naive ONNX fp32 (alone)"]
    assert not best["met"] and "executorch" in best["measured"] and best["missed_by"] == "1.12×"
    assert goals["tflite INT8 ≥ 2.0× its deploy fp32"]["met"]
    assert goals["executorch INT8 ≥ 2.0× its deploy fp32"]["missed_by"] == "1.05×"
    assert goals["onnx INT8 ≥ 1.5× its deploy fp32"]["met"]
    assert goals["ONNX deploy fp32 ≥ 1.2× naive"]["missed_by"] == "1.09×"  # 1.1× measured
    assert goals["TFLite fully delegated (deploy fp32, int8)"]["met"]


def test_goal_check_met_when_the_numbers_are():
    lat = _load("latency")
    rows = _rows(int8=(6.0, 5.0, 2.5), deploy_vs_naive=(1.25, 1.4, 1.8))
    lat.add_cross_runtime(rows)
    best, *_ = lat.goal_check(rows)
    assert best["met"] is True and best["missed_by"] is None and lat.goal_verdict(best) == "yes"


def test_kernel_families_by_symbol():
    ks = _load("kernel_shares")
    assert ks.family("xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_3x8c8__avx2") == "INT8 MACs (conv, FC, matmul)"
    assert ks.family("xnn_f32_dwconv_minmax_ukernel_25p16c__fma3") == "float MACs (conv, FC, matmul)"
    assert ks.family("xnn_f32_qs8_vcvt_ukernel__avx2_u64") == "Q/DQ converts"
    assert ks.family("xnn_f32_vmulc_ukernel__avx_u16") == "float elementwise, norms, GELU"
    assert ks.family("pthreadpool_parallelize_2d_tile_2d_dynamic") == "thread pool (hand-offs, spinning)"
    assert ks.family("0x7f12", "_portable_lib.cpython-311-x86_64-linux-gnu.so") == "ExecuTorch library, symbols stripped"
    assert ks.family("_PyEval_EvalFrameDefault") == "kernel, runtime and Python (the rest)"


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
    rows[1]["cost_int8"] = {"nodes": 511, "macs": 10, "int8_macs": 9, "int8_nodes": 86, "converts": 98,
                            "float_islands": 29, "partitions": 1, "outside_delegate": {}, "read_from": "artifact",
                            "int8_mac_share": 0.9}
    (res / "latency.json").write_text(json.dumps({"machine": {**machine, "cpu_flags": ["avx2"]}, "rows": rows,
                                                  "goals": [
        {"goal": "best INT8 ≥ 3× naive ONNX fp32 (alone)", "measured": "1.50×", "met": False, "missed_by": "2.00×"}]}))
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
    assert "Test CPU" in text and "**no** (short by 2.00×)" in text
    assert "| latency | Test CPU | avx2 |" in text  # each result names its CPU and kernel flags
    assert "| xxs | tflite | 90% | 29 | 98 | 511 |" in text  # the INT8 cost report
    assert "35 XNNPACK partitions" in text and "repeat.out ×6" in text
    assert "at most 1.67× faster" in text
    assert "_missing: run `python benchmarks/export_time.py`_" in text  # absent results are named, not invented
