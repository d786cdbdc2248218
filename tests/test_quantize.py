"""INT8: calibration sets, keep-float resolution, real INT8 exports in every runtime, bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from effmod.cli import main
from effmod.errors import EffmodError
from effmod.deploy import reparameterize
from effmod.models import create_model
from effmod.quantize import load_calibration, resolve_keep_float

from .conftest import GOLDEN_CKPT, needs_shared, require_golden_checkpoint

CFG = create_model("efficientmod_xxs", num_classes=10, img_size=64).info.data_config


def make_images(root, counts: dict[str, int], mode="RGB"):
    rng = np.random.default_rng(0)
    for cls, n in counts.items():
        d = root / cls if cls else root
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
            img = Image.fromarray(arr).convert(mode)
            img.save(d / f"img{i}.png")
    return root


# ----------------------------------------------------------------------------- calibration
def test_class_balanced_deterministic_sampling(tmp_path):
    root = make_images(tmp_path / "cal", {"cat": 30, "dog": 5, "fox": 30})
    a = load_calibration(root, CFG, size=15, seed=0)
    b = load_calibration(root, CFG, size=15, seed=0)
    c = load_calibration(root, CFG, size=15, seed=1)
    assert a.images.shape == (15, 3, 64, 64) and a.images.dtype == np.float32
    assert a.files == b.files and a.files_sha256 == b.files_sha256 and a.files != c.files
    per_class = {k: sum(f.startswith(k + "/") for f in a.files) for k in ("cat", "dog", "fox")}
    assert per_class == {"cat": 5, "dog": 5, "fox": 5} and a.classes == 3
    # dog runs out: the other classes fill the rest
    d = load_calibration(root, CFG, size=25, seed=0)
    assert sum(f.startswith("dog/") for f in d.files) == 5 and len(d.files) == 25
    assert any("fewer than 100" in w for w in d.warnings)


def test_flat_folder_grayscale_and_rgba(tmp_path):
    make_images(tmp_path / "flat", {"": 3}, mode="L")
    make_images(tmp_path / "flat" / "x", {"": 2}, mode="RGBA")  # recursive
    cal = load_calibration(tmp_path / "flat", CFG, size=10)
    assert len(cal.images) == 5
    assert any("only 5 readable" in w for w in cal.warnings)


def test_corrupt_files_are_skipped_and_counted(tmp_path):
    root = make_images(tmp_path / "cal", {"": 4})
    for i in range(3):
        (root / f"bad{i}.jpg").write_bytes(b"not a jpeg")
    cal = load_calibration(root, CFG, size=7)
    assert len(cal.images) == 4 and cal.skipped_unreadable == 3
    assert any("skipped 3 unreadable" in w for w in cal.warnings)


def test_bad_calibration_folders(tmp_path):
    with pytest.raises(EffmodError, match="not found"):
        load_calibration(tmp_path / "missing", CFG)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EffmodError, match="no images"):
        load_calibration(tmp_path / "empty", CFG)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.png").write_bytes(b"junk")
    with pytest.raises(EffmodError, match="could be read"):
        load_calibration(tmp_path / "junk", CFG)


def test_no_folder_uses_sample_photos_loudly():
    cal = load_calibration(None, CFG)
    assert len(cal.images) == 6 and "NOT a real calibration set" in cal.warnings[0]


# ----------------------------------------------------------------------------- keep-float
def test_keep_float_kinds_and_globs():
    deploy = reparameterize(create_model("efficientmod_xxs"))
    assert resolve_keep_float(deploy, ["head"]) == ["head"]
    attn = resolve_keep_float(deploy, ["attention"])
    assert attn and all(n.startswith(("stages.2", "stages.3")) for n in attn)
    assert len(resolve_keep_float(deploy, ["norm"])) == 23  # every channel LayerNorm
    assert resolve_keep_float(deploy, ["stages.3.*", "stages.3.0.norm"]) == sorted(
        n for n, _ in deploy.named_modules() if n.startswith("stages.3.") and n.count(".") == 2)
    with pytest.raises(EffmodError, match="matches no module"):
        resolve_keep_float(deploy, ["stages.9.*"])


# ----------------------------------------------------------------------------- real INT8 exports
@pytest.fixture(scope="module")
def int8_exports(tmp_path_factory, golden_exports):
    """The real 224-px INT8 export of every target (golden checkpoint), and the session's fp32 exports of
    the same checkpoint to compare with."""
    require_golden_checkpoint()
    out = tmp_path_factory.mktemp("int8")
    rc = main(["export", "--target", "all", "--quantize", "int8", "--weights", str(GOLDEN_CKPT), "--output", str(out),
               "--json", str(out / "int8.json")])
    int8 = {m["target"]: m for m in json.loads((out / "int8.json").read_text())}
    rc32, _, exported = golden_exports
    fp32 = {t: m for t, m in exported.items() if m["precision"] == "fp32"}
    return rc, rc32, int8, fp32


@needs_shared
def test_int8_manifests_carry_a_cost_report_of_the_int8_work(int8_exports):
    """Each INT8 manifest counts what its runtime runs: most MACs in INT8 (the fp32 manifest of the same
    target none), the same MACs as fp32, float islands and the converts at their borders."""
    from effmod.cost import CostReport
    from effmod.deploy.graph_stats import count_macs
    from effmod.targets import by_name

    _, _, int8, fp32 = int8_exports
    model_macs = count_macs(create_model("efficientmod_xxs", num_classes=1000).eval(), torch_randn(224))
    for target, m in int8.items():
        c = CostReport.from_dict(m["cost"])
        assert c.int8_mac_share > 0.8, (target, c)
        assert c.converts > 0 and c.float_islands >= 1 and c.nodes > c.int8_nodes > 0, (target, c)
        # the artifact's own MACs: the model's, plus what the target's deploy options add (the context's
        # repeat folded into g: 1.17x in TFLite and ExecuTorch at 224 px)
        extra = by_name(target).deploy_options.tile_context
        assert (1.1 < c.macs / model_macs < 1.35) if extra else (0.98 < c.macs / model_macs < 1.02), (
            target, c.macs, model_macs)
        if target in fp32:
            f = CostReport.from_dict(fp32[target]["cost"])
            assert f.int8_macs == 0 and f.converts == 0 and f.macs == c.macs, (target, f, c)
    assert CostReport.from_dict(int8["executorch"]["cost"]).read_from == "lowered program"
    assert CostReport.from_dict(int8["tflite"]["cost"]).partitions == 1
    assert CostReport.from_dict(int8["onnx"]["cost"]).partitions is None  # ORT has no delegate


def torch_randn(size: int):
    import torch

    return torch.randn(1, 3, size, size)


@needs_shared
def test_int8_every_target_passes_both_gates(int8_exports):
    """Correctness against each target's simulated quantized reference. Quality (top-1 agreement with fp32)
    is reported on the 6 photos but not judged: too few images (the built-in model's sample is judged, below)."""
    rc, rc32, int8, fp32 = int8_exports
    assert rc == 0 and rc32 == 0
    assert set(int8) == {"coreml", "tflite", "executorch", "onnx"}
    references = {"executorch": "fake-quantized", "coreml": "fake-quantized", "onnx": "optimizations off",
                  "tflite": "builtin kernels"}
    for target, m in int8.items():
        p = m["parity"]
        assert p["status"] == "passed", (target, p)
        assert references[target] in p["correctness"]["reference"], (target, p["correctness"]["reference"])
        # the artifact is closer to its simulated reference than to fp32: the gate measures the runtime
        assert p["correctness"]["metrics"]["sqnr_db"] > p["quality"]["metrics"]["sqnr_db"], target
        assert p["quality"]["status"] == "not judged" and "too few" in p["quality"]["note"]
        assert p["quality"]["metrics"]["top1_agreement"] >= 4 / 6  # reported: at most one flip of six photos
        assert m["quantization"]["calibration"]["n_images"] == 6
        assert len(m["quantization"]["calibration"]["files_sha256"]) == 64
    assert int8["coreml"]["quantization"]["keep_float"] == ["norm"]


@needs_shared
def test_int8_artifacts_are_small_and_stay_delegated(int8_exports):
    _, _, int8, fp32 = int8_exports
    for target in fp32:
        assert int8[target]["artifact_bytes"] <= 0.3 * fp32[target]["artifact_bytes"], target
    assert int8["coreml"]["artifact_bytes"] <= 0.3 * 2 * 9.8e6 * 1.1  # vs the fp32 program (~19 MB)
    tfl = int8["tflite"]["delegation"]
    assert tfl["partitions"] == 1 and tfl["delegated_fraction"] == 1.0
    et = int8["executorch"]["delegation"]
    assert et["partitions"] == 1 and set(et["not_delegated_ops"]) <= {"getitem"}


@needs_shared
def test_int8_tflite_really_is_integer(int8_exports):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=int8_exports[2]["tflite"]["path"])
    ops, tensors = it._get_ops_details(), it.get_tensor_details()
    conv_inputs = [tensors[o["inputs"][1]]["dtype"] for o in ops if o["op_name"] == "CONV_2D"]
    assert conv_inputs and all(d == np.int8 for d in conv_inputs)
    pads = [tensors[o["outputs"][0]]["dtype"] for o in ops if o["op_name"] == "PAD"]
    assert pads and all(d == np.int8 for d in pads)   # the patch embeddings' zero padding, in INT8
    # the modulation multiplies (one per modulation block: xxs has 12) run in INT8, the norms' stay float
    int8_muls = [o for o in ops if o["op_name"] == "MUL" and tensors[o["outputs"][0]]["dtype"] == np.int8]
    assert len(int8_muls) == int8_exports[2]["tflite"]["quantization"]["int8_products"] == 12
    assert all("ChannelNorm" not in tensors[o["outputs"][0]]["name"] for o in int8_muls)


# ----------------------------------------------------------------------------- bad input
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "effmod.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args,message", [
    (["--target", "onnx", "--quantize", "int8", "--calib", "/nonexistent/dir"], "calibration folder not found"),
    (["--target", "tflite", "--quantize", "int8", "--keep-float", "head"], "--keep-float is not available for tflite"),
    (["--target", "onnx", "--quantize", "int8-weights"], "precision int8-weights is not available for target onnx"),
    (["--target", "onnx", "--calib", "x"], "only apply to INT8"),
    (["--target", "onnx", "--quantize", "int8", "--precision", "fp32"], "contradicts"),
])
def test_bad_quantization_options_one_line_nothing_written(tmp_path, args, message):
    r = run_cli("export", *args, "--output", str(tmp_path / "o"))
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stdout + r.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_unreadable_calibration_folder_fails_cleanly(tmp_path):
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "a.jpg").write_bytes(b"junk")
    r = run_cli("export", "--target", "onnx", "--quantize", "int8", "--img-size", "64", "--num-classes", "10",
                "--calib", str(tmp_path / "cal"), "--output", str(tmp_path / "o"))
    assert r.returncode == 1 and "could be read" in r.stdout and "Traceback" not in r.stdout + r.stderr
    assert not list((tmp_path / "o").glob("*.onnx"))


# ----------------------------------------------------------------------------- sensitivity, fallback
def test_quantize_report_ranks_the_blocks(tmp_path):
    """Each ranked unit costs one PT2E quantization (~8 s here), so the CLI ranks three; which units exist
    (every block: stem + 18 stage entries + head) is checked on the model."""
    from effmod.quantize.sensitivity import select_units

    deploy = reparameterize(create_model("efficientmod_xxs", num_classes=10, img_size=64))
    assert len(select_units(deploy, ())) == 20 and select_units(deploy, ("stages.3.*",)) == [
        f"stages.3.{i}" for i in range(4)]
    with pytest.raises(EffmodError, match="matches no unit"):
        select_units(deploy, ("stages.9",))
    r = run_cli("quantize-report", "--img-size", "64", "--num-classes", "10", "--units", "stem,head,stages.3.0",
                "--output", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads((tmp_path / "efficientmod_xxs_executorch_int8_sensitivity.json").read_text())
    sqnrs = [u["sqnr_db"] for u in result["units"]]
    assert len(sqnrs) == 3 and sqnrs == sorted(sqnrs)  # most sensitive first
    assert {u["unit"] for u in result["units"]} == {"stem", "head", "stages.3.0"}
    assert result["base_keep_float"] == ["dw", "norm"]
    assert "rank" in (tmp_path / "efficientmod_xxs_executorch_int8_sensitivity.md").read_text()


def test_auto_fallback_keeps_the_most_sensitive_first_until_the_target():
    import torch

    from effmod.quantize.sensitivity import auto_fallback

    model = create_model("efficientmod_xxs", num_classes=10, img_size=64)
    deploy = reparameterize(model)
    cal = load_calibration(None, model.info.data_config)
    example = torch.from_numpy(cal.images[:1])
    # Each step is one PT2E quantization (~8 s here). Measured on these photos: all INT8 28.3 dB, with the
    # stem float 30.5 dB; the head barely matters (28.2 dB alone).
    ranking = ["stem", "head"]
    first = auto_fallback(deploy, example, cal.images, cal.images, ("norm",), min_sqnr=1000.0, ranking=ranking)
    assert first["kept_float"] == ranking and not first["reached"]  # impossible target: everything in the ranking
    assert len(first["history"]) == len(ranking) + 1 and first["float_params"] > 0
    sqnrs = [h["sqnr_db"] for h in first["history"]]
    best = max(range(1, len(sqnrs)), key=lambda i: sqnrs[i])
    assert sqnrs[best] > sqnrs[0] + 0.1  # keeping blocks float helps
    target = sqnrs[best] - 0.05
    second = auto_fallback(deploy, example, cal.images, cal.images, ("norm",), min_sqnr=target, ranking=ranking)
    assert second["reached"] and second["sqnr_db"] >= target
    assert 1 <= len(second["kept_float"]) <= best and second["kept_float"] == ranking[:len(second["kept_float"])]


def test_auto_fallback_refused_for_op_type_recipes(tmp_path):
    r = run_cli("export", "--target", "onnx", "--quantize", "int8", "--auto-fallback", "--output", str(tmp_path / "o"))
    assert r.returncode == 1 and "--auto-fallback is not available for onnx" in r.stdout


def test_tflite_integer_io_is_recorded_and_runs(tmp_path):
    from effmod.targets import load_runner

    rc = main(["export", "--target", "tflite", "--quantize", "int8", "--io", "int8", "--img-size", "64",
               "--num-classes", "10", "--output", str(tmp_path), "--json", str(tmp_path / "r.json")])
    m = json.loads((tmp_path / "r.json").read_text())[0]
    # --weights auto: the built-in CIFAR-10 weights, judged on the sample that travels with them
    assert rc == 0 and m["quantization"]["io"] == "int8"
    assert m["parity"]["correctness"]["status"] == "passed" and m["parity"]["quality"]["status"] == "passed"
    assert "validation sample" in m["parity"]["data"]
    assert m["input"]["dtype"] == "int8" and m["output"]["dtype"] == "int8"
    assert m["input"]["scale"] > 0 and -128 <= m["input"]["zero_point"] <= 127
    run = load_runner(m["path"])
    x = load_calibration(None, CFG).images[:2]
    y = run(x)
    assert y.shape == (2, 10) and y.dtype == np.float32  # the runner (de)quantizes at the boundary

