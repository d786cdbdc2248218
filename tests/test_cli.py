"""CLI behaviour on bad input: one line, non-zero exit, nothing half written."""
import subprocess
import sys

import pytest
import torch

from effmod.cli import main

from .conftest import GOLDEN_CKPT, needs_shared


def run_cli(*args):
    """Run the installed CLI in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "effmod.cli", *args], capture_output=True, text=True, timeout=300)


def test_unknown_target_is_one_line(tmp_path):
    r = run_cli("export", "--target", "pdf", "--output", str(tmp_path / "o"))
    assert r.returncode == 1
    assert r.stdout.strip().splitlines() == ["error: unknown target pdf (choose from coreml, tflite, executorch, onnx, all)"]
    assert "Traceback" not in r.stdout + r.stderr


def test_unsupported_precision_is_refused_before_work(tmp_path):
    r = run_cli("export", "--target", "onnx", "--precision", "fp16", "--output", str(tmp_path / "o"))
    assert r.returncode == 1 and "precision fp16 is not available for target onnx" in r.stdout


def test_unknown_model_lists_names(tmp_path):
    r = run_cli("export", "--target", "onnx", "--model", "resnet50", "--output", str(tmp_path))
    assert r.returncode == 1 and "efficientmod_xxs_bn" in r.stdout and "Traceback" not in r.stdout + r.stderr


def test_existing_output_needs_force(tmp_path):
    target = tmp_path / "efficientmod_xxs_64_fp32.onnx"
    target.write_text("precious")
    assert main(["export", "--target", "onnx", "--img-size", "64", "--num-classes", "10", "--output", str(tmp_path)]) == 1
    assert target.read_text() == "precious"
    assert main(["export", "--target", "onnx", "--img-size", "64", "--num-classes", "10", "--output", str(tmp_path),
                 "--force"]) == 0
    assert target.stat().st_size > 1000


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run_cli("export", "--target", "onnx", "--output", str(blocker / "sub"))
    assert r.returncode == 1 and "cannot create output directory" in r.stdout


def test_corrupt_weights_one_line_and_debug_traceback(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"garbage")
    r = run_cli("export", "--target", "onnx", "--weights", str(bad), "--output", str(tmp_path / "o"))
    assert r.returncode == 1 and len(r.stdout.strip().splitlines()) == 1 and "not a PyTorch checkpoint" in r.stdout
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    r = run_cli("--debug", "export", "--target", "onnx", "--weights", str(bad), "--output", str(tmp_path / "o"))
    assert r.returncode != 0 and "Traceback" in r.stderr


@needs_shared
def test_mismatched_weights_print_a_table(tmp_path):
    sd = torch.load(GOLDEN_CKPT)["state_dict"]
    sd.pop("head.bias")
    torch.save(sd, tmp_path / "w.pth")
    r = run_cli("export", "--target", "onnx", "--weights", str(tmp_path / "w.pth"), "--output", str(tmp_path / "o"))
    assert r.returncode == 1 and "1 missing" in r.stdout and "head.bias" in r.stdout and "Traceback" not in r.stdout


def test_models_and_doctor():
    r = run_cli("models")
    assert r.returncode == 0 and len(r.stdout.split()) == 8
    r = run_cli("doctor")
    assert "torch" in r.stdout and "coreml runtime" in r.stdout
    assert r.returncode == 0, r.stdout
    from effmod.machine import u8s8_saturates

    assert "host CPU" in r.stdout and ("no VNNI" in r.stdout) == u8s8_saturates()


@pytest.mark.parametrize("argv", [["--help"], ["export", "--help"]])
def test_help(argv):
    assert run_cli(*argv).returncode == 0


def test_naive_tflite_that_xnnpack_refuses_is_explained(tmp_path):
    """Random-init official graph: XNNPACK refuses the repeat's 8-D FULLY_CONNECTED nodes outright."""
    r = run_cli("export", "--target", "tflite", "--no-deploy-form", "--weights", "none", "--output", str(tmp_path / "o"))
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    assert "XNNPACK delegate refuses this graph (FULLY_CONNECTED)" in lines[-1] and "deploy form" in lines[-1]
    assert not list((tmp_path / "o").glob("*.tflite"))
