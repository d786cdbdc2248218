"""Parity a user can trust: the two gates, tampered artifacts caught by `effmod validate` and localized by
`effmod debug` (real runtimes: onnxruntime and effmod's Core ML executor), fp16-safe norms, bad input."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from effmod.cli import main
from effmod.eval.metrics import compare
from effmod.parity import judge

TAMPERED_BLOCK = "stages.2.1"


# ----------------------------------------------------------------------------- the gates (pure)
def test_int8_without_a_simulated_reference_fails_correctness():
    ref = np.random.default_rng(0).standard_normal((8, 10)).astype(np.float32)
    r = judge(ref, ref, "int8", "8 images", "test", in_distribution=True)
    assert r.status == "failed" and "no simulated quantized reference" in r.correctness.failures[0]


def test_quality_is_reported_not_judged_off_distribution():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((64, 10)).astype(np.float32)
    noisy = ref + rng.standard_normal(ref.shape).astype(np.float32)  # agreement far below 93 %
    off = judge(noisy, ref, "int8", "6 photos", "test", in_distribution=False, simulated=noisy)
    on = judge(noisy, ref, "int8", "val sample", "test", in_distribution=True, simulated=noisy)
    assert off.status == "passed" and off.quality.status == "not judged" and "--validate-data" in off.quality.note
    assert on.status == "failed" and on.quality.status == "failed" and on.correctness.status == "passed"
    few = judge(noisy[:6], ref[:6], "int8", "6 photos", "test", in_distribution=True, simulated=noisy[:6])
    assert few.quality.status == "not judged" and "too few" in few.quality.note and few.status == "passed"


def test_correctness_uses_the_targets_bounds_and_cli_overrides():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((16, 10)).astype(np.float32)
    out = ref + 0.03 * rng.standard_normal(ref.shape).astype(np.float32)  # ~30 dB
    sqnr = compare(ref, out).sqnr_db
    assert 25 < sqnr < 35
    assert judge(out, ref, "int8", "d", "t", True, simulated=ref, correctness_bounds={"sqnr_db": 20}).status == "passed"
    assert judge(out, ref, "int8", "d", "t", True, simulated=ref, correctness_bounds={"sqnr_db": 40}).status == "failed"
    assert judge(out, ref, "int8", "d", "t", True, overrides={"sqnr_db": 40}, simulated=ref,
                 correctness_bounds={"sqnr_db": 20}).status == "failed"


# ----------------------------------------------------------------------------- fp16-safe channel norm
def test_scaled_channel_norm_is_exact_and_survives_fp16():
    from effmod.deploy.modules import ChannelNorm

    torch.manual_seed(0)
    x = torch.randn(2, 64, 4, 4)
    x[:, :8] *= 400  # a residual stream with |x - mean| > 256: the square passes fp16's 65504
    x[0, :, 0, 0] = 3.0  # a constant pixel: x - mean = 0
    plain, scaled = ChannelNorm(64, 1e-6), ChannelNorm(64, 1e-6, scaled=True)
    assert (plain(x) - scaled(x)).abs().max() < 1e-5
    h = x.half()
    assert (h - h.mean(1, keepdim=True)).pow(2).isinf().any()  # the plain form's square overflows
    y = scaled(h).float()
    assert torch.isfinite(y).all() and (y - plain(x)).abs().max() < 0.02


# ----------------------------------------------------------------------------- tampered artifacts
def _copy(artifact, tmp_path):
    dest = tmp_path / artifact.name
    (shutil.copytree if artifact.is_dir() else shutil.copy)(artifact, dest)
    shutil.copy(artifact.with_name(artifact.name + ".json"), dest.with_name(dest.name + ".json"))
    return dest


def _tamper_onnx(path):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    init = next(i for i in model.graph.initializer if i.name == f"{TAMPERED_BLOCK}.fc2.weight")
    init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * np.float32(1.05), init.name))
    onnx.save(model, str(path))


def _mil_ops(path):
    import coremltools as ct

    fn = ct.utils.load_spec(str(path)).mlProgram.functions["main"]
    return fn.block_specializations[fn.opset].operations


def _scale_blob(path, blob_value, dtype, factor) -> None:
    """Multiply one blob-file tensor of a Core ML package in place."""
    from effmod.targets.coreml.mlprogram.blob import BlobFile

    blob_path = path / "Data/com.apple.CoreML/weights/weight.bin"
    offset, size = BlobFile(blob_path).record(blob_value.blobFileValue.offset)
    raw = bytearray(blob_path.read_bytes())
    values = np.frombuffer(bytes(raw[offset:offset + size]), dtype)
    raw[offset:offset + size] = (values * dtype(factor)).astype(dtype).tobytes()
    blob_path.write_bytes(bytes(raw))


def _tamper_coreml(path):
    # the block's fc2 weight: the first const of that block's second 1x1 conv (names follow the PyTorch nodes)
    const = next(op for op in _mil_ops(path) if op.type == "const" and TAMPERED_BLOCK.replace(".", "_") + "_fc2_weight"
                 in op.outputs[0].name)
    _scale_blob(path, const.attributes["val"], np.float32, 1.05)


def _tamper_coreml_w8a8(path):
    """Double the per-channel weight scales of the block's fc2 (a W8A8 program's weights are int8 data with
    a scale, constexpr_affine_dequantize, found from the conv whose bias is named after the module)."""
    ops = _mil_ops(path)
    bias = TAMPERED_BLOCK.replace(".", "_") + "_fc2_bias"
    conv = next(op for op in ops if op.type == "conv" and any(bias in a.name for a in op.inputs["bias"].arguments))
    weight = conv.inputs["weight"].arguments[0].name
    deq = next(op for op in ops if op.outputs and op.outputs[0].name == weight)
    assert deq.type == "constexpr_affine_dequantize", deq.type
    _scale_blob(path, deq.attributes["scale"], np.float16, 2)


@pytest.fixture(scope="module")
def fp32_pair(tmp_path_factory):
    """ONNX and Core ML fp32 of the built-in CIFAR-10 xxs (validated on its own sample)."""
    pytest.importorskip("coremltools", reason="coremltools not installed (pip install -e '.[all]')")
    out = tmp_path_factory.mktemp("fp32_pair")
    assert main(["export", "--target", "onnx", "--target", "coreml", "--precision", "fp32",
                 "--output", str(out)]) == 0
    return {p.suffix: p for p in out.iterdir() if p.suffix in (".onnx", ".mlpackage")}


@pytest.mark.slow
@pytest.mark.parametrize("suffix,tamper", [(".onnx", _tamper_onnx), (".mlpackage", _tamper_coreml)],
                         ids=["onnx", "coreml"])
def test_tampered_block_fails_validate_and_debug_names_it(fp32_pair, tmp_path, suffix, tamper, capsys):
    good = fp32_pair[suffix]
    assert main(["debug", str(good), "--images", "4", "--json", str(tmp_path / "good.json")]) == 0
    clean = json.loads((tmp_path / "good.json").read_text())
    assert clean["first_divergent"] is None and len(clean["blocks"]) == 21  # stem, 18 blocks, head.norm, head
    bad = _copy(good, tmp_path)
    tamper(bad)
    capsys.readouterr()
    assert main(["validate", str(bad), "--json", str(tmp_path / "v.json")]) == 2
    v = json.loads((tmp_path / "v.json").read_text())
    assert v["correctness"]["status"] == "failed" and v["in_distribution"]
    assert main(["debug", str(bad), "--images", "4", "--json", str(tmp_path / "d.json")]) == 2
    d = json.loads((tmp_path / "d.json").read_text())
    png = (tmp_path / "d.png").read_bytes()  # SQNR per block, the first divergence marked
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert d["first_divergent"] == TAMPERED_BLOCK, [(b["block"], b["sqnr_db"]) for b in d["blocks"]]
    assert "artifact itself" in d["artifact_side"]
    before = [b for b in d["blocks"] if b["block"] == "stages.2.0"][0]
    assert not before["below_threshold"]  # the blocks before it are still exact
    if suffix == ".mlpackage":  # op level: the conv that reads the tampered weight
        assert d["first_op_jump"]["module"].startswith(TAMPERED_BLOCK) and d["first_op_jump"]["op_type"] == "conv"
    assert f"first divergence: {TAMPERED_BLOCK}" in capsys.readouterr().out


@pytest.mark.slow
def test_debug_reads_a_coreml_w8a8_program_at_its_real_valued_points(tmp_path, capsys):
    """coremltools rescales a W8A8 program's quantized adds, so its blocks are read where the program
    dequantizes them: every block of a healthy program stays above the INT8 threshold against the PT2E
    reference, and a tampered block is named first."""
    assert main(["export", "--target", "coreml", "--quantize", "int8", "--output", str(tmp_path / "w8a8")]) == 0
    good = next((tmp_path / "w8a8").glob("*.mlpackage"))
    assert main(["debug", str(good), "--images", "4", "--json", str(tmp_path / "good.json")]) == 0
    clean = json.loads((tmp_path / "good.json").read_text())
    assert clean["first_divergent"] is None and len(clean["blocks"]) == 21, clean["notes"]
    assert clean["reference"].startswith("PyTorch fake-quantized") and min(b["sqnr_db"] for b in clean["blocks"]) > 18
    bad = _copy(good, tmp_path / "bad")
    _tamper_coreml_w8a8(bad)
    capsys.readouterr()
    assert main(["debug", str(bad), "--images", "4", "--json", str(tmp_path / "bad.json")]) == 2
    d = json.loads((tmp_path / "bad.json").read_text())
    assert d["first_divergent"] == TAMPERED_BLOCK, [(b["block"], b["sqnr_db"]) for b in d["blocks"]]
    assert f"first divergence: {TAMPERED_BLOCK}" in capsys.readouterr().out


# ----------------------------------------------------------------------------- bad input
def test_debug_bad_input_is_one_line(fp32_pair, tmp_path, capsys):
    lone = tmp_path / "lone.onnx"
    shutil.copy(fp32_pair[".onnx"], lone)  # no manifest beside it
    assert main(["debug", str(lone)]) == 1
    assert "manifest" in capsys.readouterr().out
    wrong = tmp_path / "wrong"
    for cls in ("cat", "dog"):
        (wrong / cls).mkdir(parents=True)
    assert main(["debug", str(fp32_pair[".onnx"]), "--data", str(wrong)]) == 1
    out = capsys.readouterr().out
    assert "class" in out and "Traceback" not in out
    assert main(["debug", str(fp32_pair[".onnx"]), "--images", "0"]) == 1
    assert "--images" in capsys.readouterr().out


def test_debug_refuses_an_export_it_cannot_cut(tmp_path, capsys):
    assert main(["export", "--target", "onnx", "--no-deploy-form", "--output", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["debug", str(next(tmp_path.glob("*.onnx")))]) == 1
    out = capsys.readouterr().out
    assert "--no-deploy-form" in out and "Traceback" not in out
    assert not list(tmp_path.glob(".effmod-*"))


def _tampered_lowering(monkeypatch):
    """ExecuTorch lowering with TAMPERED_BLOCK's fc2 weight scales doubled (the per-channel scales its int8
    weight is dequantized with), as a broken converter would: effmod debug rebuilds with it, the PT2E
    reference does not."""
    import executorch.exir as exir

    real = exir.to_edge_transform_and_lower

    def lower(program, **kw):
        conv = next(n for n in program.graph.nodes if n.op == "call_function" and "conv2d" in str(n.target) and
                    f"{TAMPERED_BLOCK}.fc2" in [v[0] for v in (n.meta.get("nn_module_stack") or {}).values()])
        scale = conv.args[1].args[1]  # conv(x, dequantize_per_channel(int8 weight, scales, ...), bias)
        sig = program.graph_signature
        name = sig.inputs_to_buffers.get(scale.name) or sig.inputs_to_lifted_tensor_constants[scale.name]
        store = program.state_dict if name in program.state_dict else program.constants
        store[name] = store[name] * 2
        return real(program, **kw)

    monkeypatch.setattr(exir, "to_edge_transform_and_lower", lower)


@pytest.mark.slow
def test_debug_names_a_tampered_block_of_an_executorch_int8_program(tmp_path, monkeypatch, capsys):
    """The INT8 .pte is rebuilt with its block outputs exposed (each graph output its own dequantize, which
    ExecuTorch 1.4.1's XNNPACK needs) and run by ExecuTorch; with a lowering that breaks one block, that
    block is named first and the blocks before it stay above the threshold."""
    assert main(["export", "--target", "executorch", "--quantize", "int8", "--output", str(tmp_path)]) == 0
    pte = next(tmp_path.glob("*.pte"))
    _tampered_lowering(monkeypatch)
    capsys.readouterr()
    assert main(["debug", str(pte), "--images", "2", "--json", str(tmp_path / "d.json")]) == 2
    d = json.loads((tmp_path / "d.json").read_text())
    assert "executorch" in d["artifact_side"] and d["reference"].startswith("PyTorch fake-quantized")
    assert len(d["blocks"]) == 21 and d["first_divergent"] == TAMPERED_BLOCK, [(b["block"], b["sqnr_db"]) for b in d["blocks"]]
    before = [b for b in d["blocks"] if b["block"] == "stages.2.0"][0]
    assert before["sqnr_db"] > 20  # healthy blocks are not blamed
    assert f"first divergence: {TAMPERED_BLOCK}" in capsys.readouterr().out
