"""Model-level checks of Core ML artifacts through effmod's ML-program executor: every variant in
fp32 and fp16, naive and deploy form, INT8 weights and W8A8 — and broken artifacts are caught."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

ct = pytest.importorskip("coremltools", reason="coremltools not installed: pip install -e '.[coreml]'")

from effmod.targets import load_runner  # noqa: E402
from effmod.cli import main  # noqa: E402
from effmod.eval.metrics import compare  # noqa: E402
from effmod.deploy import reparameterize  # noqa: E402
from effmod.targets.coreml import COREML  # noqa: E402
from effmod.targets import ExportJob  # noqa: E402
from effmod.models import create_model, list_models  # noqa: E402
from effmod.targets.coreml.mlprogram import load_program  # noqa: E402
from effmod.targets.coreml.mlprogram.blob import BlobFile  # noqa: E402

from .conftest import GOLDEN_CKPT, needs_shared, require_golden_checkpoint, perturb  # noqa: E402


def export_coreml(model, x, precision, path, deploy=True):
    job = ExportJob(model=reparameterize(model) if deploy else model, example=x[:1], precision=precision,
                    data_config=model.info.data_config, model_name=model.info.name)
    result = COREML.convert(job, path)
    return load_runner(path, input_spec=result.input)


@pytest.fixture(scope="module")
def golden_input(golden):
    return golden["input"]  # [2, 3, 224, 224], the reference photos


@pytest.mark.parametrize("name", list_models())
def test_every_variant_fp32_and_fp16(tmp_path, golden_input, name):
    model = perturb(create_model(name), seed=1)
    with torch.no_grad():
        ref = model(golden_input).numpy()
    fp32 = compare(ref, export_coreml(model, golden_input, "fp32", tmp_path / "a.mlpackage")(golden_input.numpy()))
    assert fp32.max_abs <= 1e-4, fp32
    run16 = export_coreml(model, golden_input, "fp16", tmp_path / "b.mlpackage")
    assert run16.engine.startswith(("effmod ML-program executor", "Core ML"))
    fp16 = compare(ref, run16(golden_input.numpy()))
    assert fp16.cosine >= 0.9999 and fp16.non_finite == 0, fp16
    assert fp16.max_abs > fp32.max_abs  # fp16 rounding really happened


@pytest.mark.parametrize("name", ["efficientmod_xxs", "efficientmod_xxs_bn"])
def test_naive_graphs_run_too(tmp_path, golden_input, name):
    """The official graph converted as-is (linear, tile, split, transpose, batch_norm, ...)."""
    model = perturb(create_model(name), seed=2)
    with torch.no_grad():
        ref = model(golden_input).numpy()
    run = export_coreml(model, golden_input, "fp32", tmp_path / "n.mlpackage", deploy=False)
    ops = load_program(tmp_path / "n.mlpackage").op_counts()
    assert {"linear", "tile", "transpose"} <= ops.keys()
    assert compare(ref, run(golden_input.numpy())).max_abs <= 1e-4


@needs_shared
def test_int8_weight_only(tmp_path, golden_input):
    import coremltools.optimize.coreml as cto

    model = create_model("efficientmod_xxs", weights=GOLDEN_CKPT)
    export_coreml(model, golden_input, "fp16", tmp_path / "f.mlpackage")
    config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric"))
    quantized = cto.linear_quantize_weights(ct.models.MLModel(str(tmp_path / "f.mlpackage"), skip_model_load=True), config)
    quantized.save(str(tmp_path / "w8.mlpackage"))
    assert load_program(tmp_path / "w8.mlpackage").op_counts()["constexpr_affine_dequantize"] >= 60  # tensors under 2048 weights stay fp16
    with torch.no_grad():
        ref = model(golden_input).numpy()
    m = compare(ref, load_runner(tmp_path / "w8.mlpackage")(golden_input.numpy()))
    print(f"int8 weights vs fp32 PyTorch: SQNR {m.sqnr_db:.1f} dB, cosine {m.cosine:.5f}")
    assert m.sqnr_db >= 25 and m.top1_agreement == 1.0


@needs_shared
def test_w8a8_matches_the_fake_quantized_model(tmp_path, golden_input):
    """Activations and weights INT8 (quantize/dequantize ops): compare with PyTorch's fake-quantized
    model, i.e. the same quantization computed by PyTorch."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer, get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    model = reparameterize(create_model("efficientmod_xxs", weights=GOLDEN_CKPT))
    x = golden_input
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    prepared = prepare_pt2e(torch.export.export(model, (x[:1],)).module(), quantizer)
    for i in range(len(x)):
        prepared(x[i:i + 1])
    fake_quant = convert_pt2e(prepared)
    with torch.no_grad():
        ref = torch.cat([fake_quant(x[i:i + 1]) for i in range(len(x))]).numpy()
    ep = torch.export.export(fake_quant, (x[:1],)).run_decompositions({})
    mlmodel = ct.convert(ep, inputs=[ct.TensorType(name="image", shape=(1, 3, 224, 224))],
                         outputs=[ct.TensorType(name="logits")], convert_to="mlprogram",
                         minimum_deployment_target=ct.target.iOS17, compute_precision=ct.precision.FLOAT32)
    mlmodel.save(str(tmp_path / "w8a8.mlpackage"))
    ops = load_program(tmp_path / "w8a8.mlpackage").op_counts()
    assert ops["quantize"] > 100 and ops["dequantize"] > 100 and ops["constexpr_affine_dequantize"] > 70
    m = compare(ref, load_runner(tmp_path / "w8a8.mlpackage")(x.numpy()))
    print(f"W8A8 Core ML (executor) vs PyTorch fake-quant: SQNR {m.sqnr_db:.1f} dB")
    # rounding-boundary flips (x/scale here, x*(1/scale) in PyTorch) compound over ~300 quantize ops
    assert m.sqnr_db >= 28 and m.top1_agreement == 1.0


# ----------------------------------------------------------------------------- broken artifacts
@pytest.fixture(scope="module")
def good_fp32(tmp_path_factory):
    require_golden_checkpoint()
    out = tmp_path_factory.mktemp("coreml")
    assert main(["export", "--target", "coreml", "--precision", "fp32", "--weights", str(GOLDEN_CKPT),
                 "--output", str(out)]) == 0
    return next(out.glob("*.mlpackage"))


def _tampered_copy(good, tmp_path, change):
    """Copy the package and its manifest; ``change(array) -> array`` rewrites the stem conv weight blob."""
    bad = tmp_path / good.name
    shutil.copytree(good, bad)
    shutil.copy(good.with_name(good.name + ".json"), bad.with_name(bad.name + ".json"))
    program = load_program(bad)
    stem = next(op for op in program.ops if op.type == "conv")
    weight_var = stem.inputs["weight"][0][1]
    spec = ct.utils.load_spec(str(bad))
    block = spec.mlProgram.functions["main"].block_specializations[spec.mlProgram.functions["main"].opset]
    const = next(op for op in block.operations if op.type == "const" and op.outputs[0].name == weight_var)
    blob_path = bad / "Data/com.apple.CoreML/weights/weight.bin"
    data_offset, size = BlobFile(blob_path).record(const.attributes["val"].blobFileValue.offset)
    raw = bytearray(blob_path.read_bytes())
    w = np.frombuffer(bytes(raw[data_offset:data_offset + size]), np.float32).reshape(32, 3, 7, 7)
    raw[data_offset:data_offset + size] = np.ascontiguousarray(change(w), np.float32).tobytes()
    blob_path.write_bytes(bytes(raw))
    return bad


@needs_shared
@pytest.mark.parametrize("change", [lambda w: w * 1.01, lambda w: w.transpose(0, 1, 3, 2)],
                         ids=["stem-weight-scaled-1%", "stem-kernel-h-w-swapped"])
def test_broken_artifact_is_caught(good_fp32, tmp_path, change, capsys):
    assert main(["validate", str(good_fp32)]) == 0
    bad = _tampered_copy(good_fp32, tmp_path, change)
    capsys.readouterr()
    assert main(["validate", str(bad), "--json", str(tmp_path / "v.json")]) == 2
    result = json.loads((tmp_path / "v.json").read_text())
    assert result["engine"] == "effmod ML-program executor" or result["engine"].startswith("Core ML")
    assert result["failures"] and result["correctness"]["metrics"]["max_abs"] > 1e-4
    assert "artifact changed since export" in capsys.readouterr().out


def test_not_an_mlpackage_is_one_clear_error(tmp_path):
    from effmod.errors import EffmodError

    (tmp_path / "x.mlpackage").mkdir()
    with pytest.raises(EffmodError, match="not an .mlpackage"):
        load_runner(tmp_path / "x.mlpackage")
