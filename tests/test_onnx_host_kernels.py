"""x86 CPUs without VNNI run onnxruntime's U8S8 INT8 kernels with 16-bit pair sums (vpmaddubsw) that
saturate; effmod runs them exactly (session.x64quantprecision=1) and says what a default session would
give. A 1x1 conv with u8 activations of 255 and s8 weights of 127 is the smallest graph that saturates."""
from __future__ import annotations

import numpy as np
import pytest

from effmod.machine import cpu_flags, u8s8_saturates

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
K = 64


def _saturating_conv(path):
    from onnx import TensorProto, helper, numpy_helper

    w = np.full((16, K, 1, 1), 127, np.int8)
    graph = helper.make_graph(
        [helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
         helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
         helper.make_node("DequantizeLinear", ["w", "sw"], ["wd"]),
         helper.make_node("Conv", ["xd", "wd"], ["y"]),
         helper.make_node("QuantizeLinear", ["y", "sy", "zx"], ["yq"]),  # an output Q: ORT fuses a QLinearConv
         helper.make_node("DequantizeLinear", ["yq", "sy", "zx"], ["yd"]),
         helper.make_node("Flatten", ["yd"], ["logits"])],
        "saturates", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, K, 2, 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 64])],
        [numpy_helper.from_array(np.array(1 / 255, np.float32), "sx"),
         numpy_helper.from_array(np.array(0, np.uint8), "zx"),
         numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array(0.01, np.float32), "sw"),
         numpy_helper.from_array(np.array(0.5, np.float32), "sy")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_int8_kernels_are_exact_on_every_x86_cpu_and_the_default_ones_are_named_where_they_saturate(tmp_path):
    from effmod.targets.onnx.runner import OnnxRunner

    path = _saturating_conv(tmp_path / "sat.onnx")
    x = np.ones((3, K, 2, 2), np.float32)
    simulated = OnnxRunner(path, optimize=False)(x)          # QDQ in float: the exact answer, 81.28 -> 81.5
    assert np.allclose(simulated, 81.5)
    exact = OnnxRunner(path)
    out = exact(x)
    assert np.allclose(out, simulated, atol=1e-3), f"flags {sorted(cpu_flags())}: {out[0, :3]}"
    fast = OnnxRunner(path, exact_int8=False)(x)
    notes = exact.host_notes(x, out)
    if u8s8_saturates():
        assert not np.allclose(fast, simulated, atol=1.0)   # 41.0 against 81.5 on an AVX2-only EPYC
        assert "exact U8U8" in exact.engine and len(notes) == 1 and "no VNNI" in notes[0] and "SQNR" in notes[0]
    else:
        assert np.allclose(fast, simulated, atol=1e-3) and notes == [] and "exact" not in exact.engine


def test_cpu_flags_and_the_saturation_rule_agree():
    flags = cpu_flags()
    dot = {"avx512_vnni", "avx_vnni", "amx_int8"} & flags
    assert u8s8_saturates() == ("avx2" in flags and not dot)
