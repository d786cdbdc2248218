"""Malformed input never reaches the user as "unexpected ...": every reader (checkpoint, manifest, each
artifact format, image folders, effmod's own resume files) turns it into one EffmodError that names the
file, and an interrupted conversion leaves nothing at the final path.

The fuzz cases are deterministic: truncations, bit flips at seeded positions, empty files, random
bytes, and files of the wrong kind or with fields of the wrong type."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from effmod.cli import main
from effmod.errors import EffmodError


def corruptions(data: bytes, seed: int = 0) -> list[tuple[str, bytes]]:
    g = np.random.default_rng(seed)
    out = [("empty", b""), ("1 byte", data[:1]), ("random 4 KiB", g.bytes(4096))]
    out += [(f"truncated to {f:.0%}", data[: int(len(data) * f)]) for f in (0.01, 0.5, 0.99)]
    for n in (1, 16, 256):
        b = bytearray(data)
        for pos in g.integers(0, len(b), size=n):
            b[pos] ^= 1 << int(g.integers(0, 8))
        out.append((f"{n} bit flips", bytes(b)))
    b = bytearray(data)
    mid = len(b) // 3
    b[mid: mid + 4096] = bytes(len(b[mid: mid + 4096]))
    out.append(("4 KiB zeroed", bytes(b)))
    return out


def expect_clean(fn, path: Path, label: str):
    """``fn()`` either works or raises an EffmodError naming ``path``; anything else fails the test."""
    try:
        return fn()
    except EffmodError as e:
        assert str(path) in str(e) or path.name in str(e), f"{label}: message does not name the file: {e}"
        return e
    except Exception as e:  # noqa: BLE001 - exactly what this test exists to catch
        pytest.fail(f"{label}: {type(e).__name__} leaked instead of one clear line: {e}")


# ----------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from effmod.models import create_model

    path = tmp_path_factory.mktemp("ckpt") / "w.pth"
    torch.manual_seed(0)
    torch.save({"state_dict": create_model("efficientmod_xxs", num_classes=10).state_dict(), "num_classes": 10}, path)
    return path


def _load(path):
    from effmod.models import create_model

    return lambda: create_model("efficientmod_xxs", weights=str(path))


def test_checkpoint_fuzz(checkpoint, tmp_path):
    data = checkpoint.read_bytes()
    for label, blob in corruptions(data, seed=1):
        p = tmp_path / f"{label.replace(' ', '_').replace('%', 'pc')}.pth"
        p.write_bytes(blob)
        outcome = expect_clean(_load(p), p, label)
        # a flipped bit inside tensor data still loads (torch keeps no checksum); a broken structure never does
        if "flip" not in label and "zeroed" not in label:
            assert isinstance(outcome, EffmodError), f"{label} was accepted"


@pytest.mark.parametrize("name,payload", [
    ("text.pth", "hello, this is a text file\n"),
    ("json.pth", json.dumps({"state_dict": {"a": 1}})),
    ("list.pth", [1, 2, 3]),
    ("strings.pth", {"state_dict": {"patch_embed.proj.weight": "not a tensor"}}),
    ("wrapped_string.pth", {"state_dict": "abc"}),
    ("bad_classes.pth", {"state_dict": {"w": torch.zeros(1)}, "num_classes": "ten"}),
    ("bad_data_config.pth", "DATA_CONFIG"),
    ("random.safetensors", b"\x00\x01garbage" * 100),
])
def test_checkpoints_of_the_wrong_kind(tmp_path, checkpoint, name, payload):
    p = tmp_path / name
    if payload == "DATA_CONFIG":
        state = torch.load(checkpoint, weights_only=True)
        torch.save({**state, "data_config": {"input_size": "big", "mean": 5}}, p)
    elif isinstance(payload, str):
        p.write_text(payload)
    elif isinstance(payload, bytes):
        p.write_bytes(payload)
    else:
        torch.save(payload, p)
    result = expect_clean(_load(p), p, name)
    assert isinstance(result, EffmodError), f"{name} was accepted"


def test_weights_that_are_a_directory(tmp_path):
    result = expect_clean(_load(tmp_path), tmp_path, "directory")
    assert isinstance(result, EffmodError) and "directory" in str(result)


def test_the_issue_s_five_cases_through_the_cli(tmp_path, small_artifacts, capsys):
    """#20's five: a text file as --weights, a truncated .onnx, a manifest that is not JSON, --img-size 0,
    --num-classes 0. One clear line each, non-zero exit, never "unexpected"."""
    text = tmp_path / "x.pth"
    text.write_text("not a checkpoint\n")
    onnx = tmp_path / "x.onnx"
    onnx.write_bytes(small_artifacts["onnx"].read_bytes()[:3000])
    shutil.copy(str(small_artifacts["onnx"]) + ".json", str(onnx) + ".json")
    broken = tmp_path / "y.onnx"
    shutil.copy(small_artifacts["onnx"], broken)
    (tmp_path / "y.onnx.json").write_text("{not json")
    runs = {
        "x.pth is not a PyTorch checkpoint": ["export", "--target", "onnx", "--weights", str(text), "--output", str(tmp_path / "o")],
        "x.onnx is truncated or not an ONNX model": ["validate", str(onnx)],
        "y.onnx.json is not valid JSON": ["validate", str(broken)],
        "positive multiple of 32": ["export", "--target", "onnx", "--img-size", "0", "--output", str(tmp_path / "o")],
        "--num-classes must be a positive": ["export", "--target", "onnx", "--num-classes", "0", "--output", str(tmp_path / "o")],
    }
    for expected, argv in runs.items():
        rc = main(argv)
        out = capsys.readouterr().out
        assert rc != 0 and expected in out and "unexpected" not in out, (argv, out)
        assert len([ln for ln in out.splitlines() if ln.startswith("error:")]) == 1, out
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


# ----------------------------------------------------------------------------- manifests
def test_manifest_fuzz(small_artifacts, tmp_path):
    from effmod.manifest import Manifest

    src = small_artifacts["onnx"]
    art = tmp_path / "m.onnx"
    art.write_bytes(b"")  # the manifest reader does not open the artifact
    text = (Path(str(src) + ".json")).read_bytes()
    path = tmp_path / "m.onnx.json"
    for label, blob in corruptions(text, seed=2):
        path.write_bytes(blob)
        expect_clean(lambda: Manifest.read(art), path, label)


@pytest.mark.parametrize("field,value", [
    ("precision", 5), ("precision", "int4"), ("num_classes", "ten"), ("num_classes", -1), ("input", "NCHW"),
    ("input.shape", "1x3x64x64"), ("input.shape", [1, 3]), ("input.layout", "CHW"), ("preprocessing", []),
    ("preprocessing.mean", [0.5]), ("labels", 3), ("labels", [1, 2]), ("parity", None), ("parity.correctness", {}),
    ("output", {}), ("quantization", "int8"), ("model", None), ("", [1, 2, 3]),
])
def test_manifest_fields_of_the_wrong_type(small_artifacts, tmp_path, field, value):
    from effmod.manifest import Manifest

    data = json.loads(Path(str(small_artifacts["onnx"]) + ".json").read_text())
    if not field:
        data = value
    elif "." in field:
        outer, inner = field.split(".")
        data[outer][inner] = value
    else:
        data[field] = value
    art = tmp_path / "m.onnx"
    path = tmp_path / "m.onnx.json"
    path.write_text(json.dumps(data))
    result = expect_clean(lambda: Manifest.read(art), path, f"{field}={value!r}")
    assert isinstance(result, EffmodError), f"{field}={value!r} was accepted"


# ----------------------------------------------------------------------------- artifacts, in their real runtimes
WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    from effmod.errors import EffmodError
    from effmod.targets import load_runner
    from effmod.pipeline import ValidationData, run_parity
    for path in sys.argv[1:]:
        print(json.dumps({"path": path, "outcome": "started"}), flush=True)
        try:
            zeros = ValidationData(np.zeros((2, 3, 64, 64), np.float32), "zeros", in_distribution=False)
            run_parity(path, None, zeros, np.zeros((2, 10), np.float32), "fp32")
            outcome, msg = "ran", ""
        except EffmodError as e:
            outcome, msg = "effmod_error", str(e)
        except Exception as e:
            outcome, msg = "unexpected", f"{type(e).__name__}: {e}"
        print(json.dumps({"path": path, "outcome": outcome, "message": msg[:300]}), flush=True)
""")


def _corrupt_copies(src: Path, dest: Path, seed: int) -> list[Path]:
    """Corrupted copies of a file artifact, or of each file inside a package (.mlpackage)."""
    paths = []
    if src.is_file():
        for i, (label, blob) in enumerate(corruptions(src.read_bytes(), seed)):
            p = dest / f"{i:02d}_{label.replace(' ', '_').replace('%', 'pc')}{src.suffix}"
            p.write_bytes(blob)
            paths.append(p)
        return paths
    for j, inner in enumerate(sorted(f.relative_to(src) for f in src.rglob("*") if f.is_file())):
        for i, (label, blob) in enumerate(corruptions((src / inner).read_bytes(), seed + j)[::2]):
            p = dest / f"{j}{i:02d}_{inner.name}_{label.replace(' ', '_').replace('%', 'pc')}{src.suffix}"
            shutil.copytree(src, p)
            (p / inner).write_bytes(blob)
            paths.append(p)
    return paths


@pytest.mark.parametrize("target", ["onnx", "tflite", "executorch", "coreml"])
def test_artifact_fuzz_in_the_real_runtime(small_artifacts, tmp_path, target):
    """Each corrupted copy is opened and run in a worker process, so a runtime that aborts the process
    (ExecuTorch did, on random headers) is caught as a failure here rather than taking pytest down."""
    paths = _corrupt_copies(small_artifacts[target], tmp_path, seed=10)
    proc = subprocess.run([sys.executable, "-c", WORKER, *map(str, paths)], capture_output=True, text=True, timeout=600)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    finished = [r for r in results if r["outcome"] != "started"]
    crashed = results[-1]["path"] if results and results[-1]["outcome"] == "started" else None
    assert proc.returncode == 0, f"worker died (rc {proc.returncode}) on {crashed}: {proc.stderr[-800:]}"
    assert len(finished) == len(paths)
    leaks = [r for r in finished if r["outcome"] == "unexpected"]
    assert not leaks, leaks
    for r in finished:
        if r["outcome"] == "effmod_error":
            assert Path(r["path"]).name in r["message"], r
    assert sum(r["outcome"] == "effmod_error" for r in finished) >= len(paths) // 3


# ----------------------------------------------------------------------------- image folders
def test_image_folder_fuzz(tmp_path):
    from effmod.eval.data_config import DataConfig
    from effmod.eval.datasets import load_labelled_images
    from effmod.eval.images import validation_batch
    from effmod.quantize import load_calibration

    cfg = DataConfig(input_size=(3, 32, 32), crop_pct=1.0, labels=("a", "b"))
    good = tmp_path / "src.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(good)
    jpg = tmp_path / "src.jpg"
    Image.open(good).save(jpg, quality=80)
    root = tmp_path / "data"
    n_bad = 0
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        shutil.copy(good, root / cls / "ok.png")
        for k, src in enumerate((good, jpg)):
            for i, (label, blob) in enumerate(corruptions(src.read_bytes(), seed=10 * len(cls) + k)):
                (root / cls / f"{src.suffix[1:]}_{i}{src.suffix}").write_bytes(blob)
                n_bad += 1
        (root / cls / "dir.jpg").mkdir()  # a folder named like an image is not a file
    cal = load_calibration(root, cfg, size=1000)
    assert len(cal.images) >= 2 and cal.skipped_unreadable >= 10
    x, desc = validation_batch(cfg, root, limit=100)
    assert len(x) >= 2
    data = load_labelled_images(root, cfg, expected_classes=["a", "b"])
    assert len(data) >= 2 and len(data.unreadable) >= 10
    only_bad = tmp_path / "bad"
    (only_bad / "a").mkdir(parents=True)
    (only_bad / "a" / "x.jpg").write_bytes(b"\xff\xd8garbage")
    for fn in (lambda: load_calibration(only_bad, cfg), lambda: validation_batch(cfg, only_bad),
               lambda: load_labelled_images(only_bad, cfg)):
        result = expect_clean(fn, only_bad, "only unreadable images")
        assert isinstance(result, EffmodError)


# ----------------------------------------------------------------------------- effmod's own resume files
def test_damaged_training_state_is_one_line(tmp_path, capsys):
    data = tmp_path / "train" / "a"
    data.mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(data / "x.png")
    (tmp_path / "train" / "b").mkdir()
    Image.new("RGB", (32, 32), (255, 0, 0)).save(tmp_path / "train" / "b" / "y.png")
    out = tmp_path / "run"
    out.mkdir()
    (out / "last.pth").write_bytes(b"\x80\x04garbage")
    rc = main(["train", "--data", str(tmp_path / "train"), "--img-size", "32", "--epochs", "1", "--output", str(out),
               "--resume"])
    text = capsys.readouterr().out
    assert rc == 1 and "last.pth is not a readable effmod training state" in text and "unexpected" not in text


# ----------------------------------------------------------------------------- interrupted conversions
def _export_cmd(ckpt: Path, out: Path, target: str) -> list[str]:
    return [sys.executable, "-m", "effmod.cli", "export", "--target", target, "--weights", str(ckpt),
            "--num-classes", "10", "--img-size", "64", "--output", str(out)]


def _start_and_signal(ckpt: Path, out: Path, sig, delay: float = 1.0) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(_export_cmd(ckpt, out, "executorch"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.time() + 180
    while time.time() < deadline and not list(out.glob(".effmod-tmp-*")):
        time.sleep(0.2)  # the build folder appears when conversion starts
    assert list(out.glob(".effmod-tmp-*")), "conversion never started"
    time.sleep(delay)
    assert proc.poll() is None, f"the export finished within {delay} s of starting to convert: nothing to interrupt"
    proc.send_signal(sig)
    text, _ = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, text)


# Several points of the conversion: torch.export, the XNNPACK partitioner, serialisation, the parity run.
@pytest.mark.parametrize("sig,rc,delay", [(signal.SIGTERM, 143, 0.3), (signal.SIGTERM, 143, 2.5),
                                          (signal.SIGINT, 130, 0.1), (signal.SIGINT, 130, 1.0),
                                          (signal.SIGINT, 130, 2.5)])
def test_a_signal_during_conversion_leaves_nothing(checkpoint, tmp_path, sig, rc, delay):
    out = tmp_path / "out"
    done = _start_and_signal(checkpoint, out, sig, delay)
    assert done.returncode == rc, done.stdout[-500:]
    assert "nothing half-written" in done.stdout
    assert not list(out.glob("*.pte")) and not list(out.glob("*.json")), list(out.iterdir())
    assert not list(out.glob(".effmod-tmp-*")), "the build folder was not cleaned up"


def test_the_next_run_cleans_a_killed_run_s_build_folder(checkpoint, tmp_path):
    out = tmp_path / "out"
    done = _start_and_signal(checkpoint, out, signal.SIGKILL)  # nothing can clean up after SIGKILL
    assert done.returncode == -signal.SIGKILL
    assert list(out.glob(".effmod-tmp-*")) and not list(out.glob("*.pte"))
    ok = subprocess.run(_export_cmd(checkpoint, out, "onnx"), capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout[-800:]
    assert "removed 1 build folder(s)" in ok.stdout
    assert not list(out.glob(".effmod-tmp-*")) and list(out.glob("*.onnx"))
    live = out / f".effmod-tmp-{os.getpid()}-keep"  # a live run's folder is left alone
    live.mkdir()
    from effmod.placement import clean_stale_temp

    assert clean_stale_temp(out) == 0 and live.is_dir()


SWALLOWER = r"""
import os, signal, sys, time
from pathlib import Path
from effmod import interrupts, placement
interrupts.install()
try:
    os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C arrives while a library is running ...
    time.sleep(2)
except BaseException:
    pass                                  # ... and the library swallows the KeyboardInterrupt
build = Path(sys.argv[1])
(build / "a.onnx").write_text("artifact")
(build / "a.onnx.json").write_text("{}")
try:
    placement.place_artifact(build / "a.onnx", build.parent / "a.onnx")
    print("placed")
except interrupts.Interrupted as e:
    print("refused", e.signum)
"""


def test_an_interrupt_a_library_swallowed_still_stops_placement(tmp_path):
    """The recorded signal, not the exception reaching the top, decides: nothing is placed."""
    build = tmp_path / "build"
    build.mkdir()
    r = subprocess.run([sys.executable, "-c", SWALLOWER, str(build)], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == f"refused {int(signal.SIGINT)}", r.stdout + r.stderr
    assert not (tmp_path / "a.onnx").exists() and not (tmp_path / "a.onnx.json").exists()


@pytest.mark.parametrize("argv,flag", [
    (["bench", "x.tflite", "--threads", "-1"], "--threads"),
    (["bench", "x.tflite", "--runs", "0"], "--runs"),
    (["bench", "x.tflite", "--warmup", "-2"], "--warmup"),
    (["sweep", "--data", "d", "--limit", "-5"], "--limit"),
    (["sweep", "--data", "d", "--shard-size", "0"], "--shard-size"),
    (["sweep", "--data", "d", "--workers", "0"], "--workers"),
    (["sweep", "--data", "d", "--bench-runs", "-1"], "--bench-runs"),
    (["sweep", "--data", "d", "--calib-sizes", "32,0"], "--calib-sizes"),
    (["export", "--target", "onnx", "--calib-size", "0"], "--calib-size"),
    (["export", "--target", "onnx", "--img-size", "100"], "--img-size"),
    (["export", "--target", "onnx", "--threads", "0"], "--threads"),
    (["validate", "x.onnx", "--arch", "arm64", "--arm-images", "0"], "--arm-images"),
    (["debug", "x.onnx", "--images", "-3"], "--images"),
    (["quantize-report", "--calib-size", "-1"], "--calib-size"),
    (["train", "--data", "d", "--epochs", "0"], "--epochs"),
    (["train", "--data", "d", "--batch-size", "0"], "--batch-size"),
    (["train", "--data", "d", "--lr", "-0.1"], "--lr"),
    (["train", "--data", "d", "--label-smoothing", "1.5"], "--label-smoothing"),
    (["validate", "x.onnx", "--max-abs", "-1"], "--max-abs"),
])
def test_every_bad_number_is_one_line_before_any_work(argv, flag, tmp_path, capsys):
    """Numbers are checked before anything is loaded or written: one line naming the option and a valid
    example, exit 1 (the artifacts and folders named here do not even exist)."""
    from effmod.cli import main

    rc = main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 1 and len(out) == 1 and flag in out[0] and "e.g." in out[0], out
