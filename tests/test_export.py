"""Real conversions, checked in the real runtimes (onnxruntime, ai_edge_litert, ExecuTorch, coremltools)."""
import json

import numpy as np
import pytest
import torch

from effmod.targets import load_runner
from effmod.cli import main
from effmod.deploy import DeployOptions, reparameterize
from effmod.deploy.modules import SplitDepthwiseConv
from effmod.models import create_model

from .conftest import GOLDEN_CKPT, needs_shared, perturb

REQUIRED = {"model", "target", "precision", "artifact_sha256", "weights_sha256", "input", "output",
            "preprocessing", "labels", "versions", "parity", "delegation", "export_seconds"}


@pytest.fixture(scope="module")
def exported(golden_exports):
    """One `effmod-export --target all` run with the golden checkpoint (all four converters)."""
    return golden_exports


@needs_shared
def test_export_all_passes_parity(exported):
    rc, out, manifests = exported
    assert rc == 0
    assert set(manifests) == {"coreml", "tflite", "executorch", "onnx"}
    for target in ("onnx", "tflite", "executorch"):
        parity = manifests[target]["parity"]
        assert parity["status"] == "passed", (target, parity)
        assert parity["correctness"]["metrics"]["max_abs"] <= 1e-4
        assert parity["quality"]["metrics"]["top1_agreement"] == 1.0
        # random-seed ImageNet-class weights, no sample with them: the 6 photos fit its classes, but 6 images
        # are too few to judge agreement, so quality is reported (100 % here) and not judged
        assert parity["n_images"] == 6 and parity["in_distribution"] and parity["quality"]["status"] == "not judged"
        assert "too few" in parity["quality"]["note"]


@needs_shared
def test_manifests_beside_artifacts_are_complete(exported):
    from effmod.manifest import artifact_sha256
    from effmod.models.checkpoint import file_sha256

    _, out, manifests = exported
    for target, m in manifests.items():
        artifact = out / m["artifact"]
        on_disk = json.loads(artifact.with_name(artifact.name + ".json").read_text())
        assert REQUIRED <= on_disk.keys()
        assert on_disk["artifact_sha256"] == artifact_sha256(artifact)
        assert on_disk["weights_sha256"] == file_sha256(GOLDEN_CKPT)
        assert on_disk["input"]["layout"] == "NCHW" and on_disk["input"]["shape"] == [1, 3, 224, 224]
        assert len(on_disk["labels"]) == 1000 and on_disk["preprocessing"]["mean"] == [0.485, 0.456, 0.406]
    assert manifests["coreml"]["artifact"].endswith("fp16.mlpackage")
    assert not [p for p in out.iterdir() if p.name.startswith(".effmod-tmp")]


@needs_shared
def test_coreml_parity_runs_here_and_says_which_engine(exported):
    from effmod.versions import coreml_predict_available

    parity = exported[2]["coreml"]["parity"]
    assert parity["status"] == "passed", parity
    c = parity["correctness"]["metrics"]
    assert c["cosine"] >= 0.9999 and parity["quality"]["metrics"]["top1_agreement"] == 1.0
    # fp16 is really rounded per op: a bit-exact fp32 result here would mean fp16 was not emulated
    assert c["max_abs"] > 1e-5
    expected = "Core ML (macOS)" if coreml_predict_available() else "effmod ML-program executor"
    assert parity["engine"].startswith(expected)
    m = exported[2]["coreml"]
    assert m["input"]["dtype"] == "float16" and m["output"]["dtype"] == "float16"  # what the program declares


@needs_shared
def test_coreml_package_is_an_ml_program_with_metadata(exported):
    import coremltools as ct

    _, out, manifests = exported
    spec = ct.utils.load_spec(str(out / manifests["coreml"]["artifact"]))
    assert spec.WhichOneof("Type") == "mlProgram"
    assert spec.specificationVersion >= 8  # iOS 17
    meta = dict(spec.description.metadata.userDefined)
    assert meta["model"] == "efficientmod_xxs" and len(json.loads(meta["labels"])) == 1000
    assert "normalised" in spec.description.input[0].shortDescription


@needs_shared
def test_tflite_and_executorch_are_fully_delegated(exported):
    manifests = exported[2]
    tfl = manifests["tflite"]["delegation"]
    assert tfl["delegated_fraction"] == 1.0 and tfl["partitions"] == 1
    et = manifests["executorch"]["delegation"]
    assert et["partitions"] == 1
    # Only layout copies at the graph boundary and the output getitem stay outside XNNPACK.
    assert set(et["not_delegated_ops"]) <= {"dim_order_ops__to_dim_order_copy_default", "getitem"}


@needs_shared
def test_uniform_runtime_api_on_every_runnable_artifact(exported):
    _, out, manifests = exported
    model = create_model("efficientmod_xxs", weights=GOLDEN_CKPT)
    x = np.random.default_rng(0).standard_normal((3, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    for target in ("onnx", "tflite", "executorch", "coreml"):
        run = load_runner(out / manifests[target]["artifact"], threads=2)
        y = run(x)
        assert y.shape == (3, 1000) and y.dtype == np.float32
        bound = 2e-2 if target == "coreml" else 1e-4  # coreml artifact is fp16
        assert np.abs(y - ref).max() <= bound, (target, np.abs(y - ref).max())


@needs_shared
def test_validate_reads_the_manifest_and_catches_a_tampered_artifact(exported, tmp_path, capsys):
    import onnx
    from onnx import numpy_helper

    _, out, manifests = exported
    good = out / manifests["onnx"]["artifact"]
    assert main(["validate", str(good)]) == 0
    model = onnx.load(str(good))
    init = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 1.01, init.name))
    bad = tmp_path / "tampered.onnx"
    onnx.save(model, str(bad))
    (tmp_path / "tampered.onnx.json").write_text((good.with_name(good.name + ".json")).read_text())
    assert main(["validate", str(bad), "--json", str(tmp_path / "v.json")]) == 2
    assert json.loads((tmp_path / "v.json").read_text())["status"] == "failed"


@needs_shared
def test_naive_graph_falls_off_the_tflite_delegate(tmp_path):
    """The delegation report must see what the deploy form fixes: XNNPACK rejects what the official
    graph's ``repeat`` lowers to (measured with litert-torch 0.10: 6 BROADCAST_TO + 12 RESHAPE,
    7 partitions), so the naive artifact is split between the delegate and TFLite's CPU kernels."""
    rc = main(["export", "--target", "tflite", "--no-deploy-form", "--weights", str(GOLDEN_CKPT),
               "--output", str(tmp_path)])
    m = json.loads(next(tmp_path.glob("*.tflite.json")).read_text())
    assert rc == 0 and m["parity"]["status"] == "passed" and m["deploy_form"] is None
    assert m["delegation"]["delegated_fraction"] < 1.0 and m["delegation"]["partitions"] > 1
    assert m["delegation"]["not_delegated_ops"].get("BROADCAST_TO") == 6


def test_failed_parity_exits_2_and_keeps_a_marked_artifact(tmp_path):
    rc = main(["export", "--target", "onnx", "--output", str(tmp_path), "--max-abs", "0"])
    m = json.loads(next(tmp_path.glob("*.onnx.json")).read_text())
    assert rc == 2 and m["parity"]["status"] == "failed" and (tmp_path / m["artifact"]).is_file()


def test_coreml_image_input_fp32(tmp_path):
    import coremltools as ct

    assert main(["export", "--target", "coreml", "--precision", "fp32", "--image-input", "--img-size", "64",
                 "--num-classes", "10", "--output", str(tmp_path)]) == 0
    pkg = next(tmp_path.glob("*.mlpackage"))
    assert pkg.name == "efficientmod_xxs_64_fp32_img.mlpackage"
    spec = ct.utils.load_spec(str(pkg))
    assert spec.description.input[0].type.WhichOneof("Type") == "imageType"


def test_onnx_dynamic_batch(tmp_path):
    assert main(["export", "--target", "onnx", "--dynamic-batch", "--img-size", "64", "--num-classes", "10",
                 "--output", str(tmp_path)]) == 0
    run = load_runner(next(tmp_path.glob("*.onnx")))
    assert run.batch is None and run(np.zeros((5, 3, 64, 64), np.float32)).shape == (5, 10)


@pytest.mark.parametrize("k", [7, 9])
def test_split_depthwise_is_exact(k):
    conv = torch.nn.Conv2d(16, 16, k, padding=k // 2, groups=16)
    split = SplitDepthwiseConv(conv)
    taps = [w.shape[2] * w.shape[3] for w in split.weights]
    assert max(taps) <= 25 and sum(taps) == k * k
    if k == 7:
        assert sorted(taps) == [12, 16, 21]   # three centred dilated parts, no shifted slices
    x = torch.randn(2, 16, 13, 9)
    with torch.no_grad():
        assert (conv(x) - split(x)).abs().max().item() <= 1e-5


def test_split_depthwise_refuses_what_it_cannot_centre():
    with pytest.raises(ValueError, match="odd kernel"):
        SplitDepthwiseConv(torch.nn.Conv2d(8, 8, 6, padding=3, groups=8))


@pytest.mark.parametrize("options", [DeployOptions(channel_mean="conv", split_large_dw=True, tile_context=True),
                                     DeployOptions(split_large_dw=True, tile_context=True),
                                     DeployOptions(tile_context=True)])
@pytest.mark.parametrize("name", ["efficientmod_s_bn", "efficientmod_xxs"])
def test_runtime_specific_deploy_options_keep_parity(options, name):
    model = perturb(create_model(name))
    x = torch.randn(1, 3, 224, 224)
    deployed, report = reparameterize(model, report=True, options=options)
    with torch.no_grad():
        assert (model(x) - deployed(x)).abs().max().item() <= 1e-4
    assert report["repeat_folded_into_g"] > 0 and "repeat_to_broadcast" not in report
    # every repeat went into g: no block is left with a 5-D broadcast
    assert all(b.group == 1 for b in deployed.modules() if hasattr(b, "group"))
