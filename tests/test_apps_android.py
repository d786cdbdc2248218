"""The Android demo app, checked by real compilers and runtimes (apps/check/, apps/README.md):

- every .kt file type-checks with kotlinc against Android's android.jar plus the project's own
  compile-only stubs (apps/check/stubs/compile), and an injected type error fails;
- the app's own AppConfig.kt, Preprocess.kt and Classifier.kt run unchanged on the JVM on projects
  written by `effmod package`: the tensor they build is bit-identical to effmod's preprocessing, the
  bytes they hand the runtime are what the real runtime (ai_edge_litert / executorch.runtime, through
  apps/check/bridge.py) is run on, and the top-1 is the packaged self-test's;
- the app's runtime versions follow effmod's pins.

The toolchain comes from apps/check/install.sh (npm's kotlin-compiler, Debian's android.jar and org.json),
which .ci/run runs; without it these tests skip and say so.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from effmod.cli import main

REPO = Path(__file__).resolve().parents[1]
CHECK = REPO / "apps" / "check"
APP = REPO / "apps" / "android" / "EffmodDemo"
SOURCES = APP / "app" / "src" / "main" / "java" / "dev" / "effmod" / "demo"
LOGIC = ["AppConfig.kt", "Preprocess.kt", "Classifier.kt"]


@pytest.fixture(scope="module")
def tools():
    root = Path(os.environ.get("EFFMOD_TOOLS", Path.home() / ".cache" / "effmod" / "tools"))
    kotlinc = root / "kotlin" / "node_modules" / "kotlin-compiler" / "bin" / "kotlinc"
    android = root / "android" / "android.jar"
    json_jar = root / "android" / "json.jar"
    if not (kotlinc.is_file() and android.is_file() and json_jar.is_file()) or not shutil.which("javac"):
        pytest.skip(f"Android check toolchain not in {root}: run apps/check/install.sh (CI does), needs a JDK")
    version = json.loads((kotlinc.parents[1] / "package.json").read_text())["version"]
    if tuple(int(v) for v in version.split(".")[:2]) < (2, 1):
        pytest.skip(f"kotlinc {version} in {root}: the app needs Kotlin 2.1+ "
                    f"(rm -rf {root / 'kotlin'} and run apps/check/install.sh)")
    return {"kotlinc": str(kotlinc), "android": str(android), "json": str(json_jar)}


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def _javac(srcs: Path, out: Path, classpath: str = "") -> Path:
    out.mkdir(parents=True, exist_ok=True)
    r = _run(["javac", "-nowarn", *(["-cp", classpath] if classpath else []), "-d", str(out),
              *map(str, sorted(srcs.rglob("*.java")))])
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _jvm_stubs() -> list[Path]:
    return sorted((CHECK / "stubs" / "jvm" / "kotlin").glob("*.kt"))


def _kotlinc(tools, classpath: str, sources: list[Path], out: Path, runtime: bool = False):
    return _run([tools["kotlinc"], "-nowarn", "-cp", classpath, *(["-include-runtime"] if runtime else []),
                 "-d", str(out), *map(str, sources)])


@pytest.fixture(scope="module")
def compile_classpath(tools, tmp_path_factory):
    stubs = _javac(CHECK / "stubs" / "compile" / "java", tmp_path_factory.mktemp("jstubs"), tools["android"])
    return f"{tools['android']}:{stubs}"


def test_every_kotlin_file_type_checks(tools, compile_classpath, tmp_path):
    sources = sorted(SOURCES.glob("*.kt"))
    assert len(sources) == 5
    r = _kotlinc(tools, compile_classpath, [*sorted((CHECK / "stubs" / "compile" / "kotlin").glob("*.kt")), *sources],
                 tmp_path / "out")
    assert r.returncode == 0 and "error:" not in r.stderr, r.stderr[-4000:]


def test_an_injected_type_error_fails_the_check(tools, compile_classpath, tmp_path):
    broken = tmp_path / "src"
    shutil.copytree(SOURCES, broken)
    with open(broken / "Preprocess.kt", "a") as f:
        f.write('\nval injected: Int = "not an Int"\n')
    r = _kotlinc(tools, compile_classpath, [*sorted((CHECK / "stubs" / "compile" / "kotlin").glob("*.kt")),
                                             *sorted(broken.glob("*.kt"))], tmp_path / "out")
    assert r.returncode != 0 and "Preprocess.kt" in r.stderr and "mismatch" in r.stderr.lower(), r.stderr[-2000:]


# LiteRT 2.x API misuse the stubs must catch: the deprecated 1.x class, a parameter name, an argument type
LITERT_MISUSE = {
    "1.x Interpreter": ("    private val env = Environment.create()",
                        "    private val env = Environment.create()\n    private val legacy = org.tensorflow.lite.Interpreter::class",
                        "unresolved reference"),
    "parameter name": ("CpuOptions(numThreads = threads)", "CpuOptions(threads = threads)", "no parameter with name"),
    "argument type": ("inputs[0].writeFloat(chw)", "inputs[0].writeFloat(chw.toList())", "mismatch"),
}


@pytest.mark.parametrize("misuse", sorted(LITERT_MISUSE))
def test_litert_api_misuse_fails_the_check(tools, compile_classpath, tmp_path, misuse):
    old, new, error = LITERT_MISUSE[misuse]
    broken = tmp_path / "src"
    shutil.copytree(SOURCES, broken)
    classifier = broken / "Classifier.kt"
    assert old in classifier.read_text(), f"Classifier.kt no longer has {old!r}: update the injected misuse"
    classifier.write_text(classifier.read_text().replace(old, new, 1))
    r = _kotlinc(tools, compile_classpath, [*sorted((CHECK / "stubs" / "compile" / "kotlin").glob("*.kt")),
                                             *sorted(broken.glob("*.kt"))], tmp_path / "out")
    assert r.returncode != 0 and "Classifier.kt" in r.stderr and error in r.stderr.lower(), r.stderr[-2000:]


def test_the_app_runs_litert_through_compiled_model_only():
    app = "\n".join(f.read_text() for f in SOURCES.glob("*.kt"))
    assert "org.tensorflow.lite" not in app  # the 1.x Interpreter / GpuDelegate are gone
    assert "CompiledModel.create(" in app
    assert "Accelerator.GPU, Accelerator.CPU" not in app  # would run on the CPU while asking for the GPU


# ----------------------------------------------------------------------------- the app's logic on the JVM
@pytest.fixture(scope="module")
def harness(tools, tmp_path_factory):
    out = tmp_path_factory.mktemp("harness")
    stubs = _javac(CHECK / "stubs" / "jvm", out / "classes")
    jar = out / "harness.jar"
    r = _kotlinc(tools, f"{stubs}:{tools['json']}",
                 [*(SOURCES / f for f in LOGIC), CHECK / "harness" / "Harness.kt", *_jvm_stubs()], jar, runtime=True)
    assert r.returncode == 0, r.stderr[-4000:]
    return f"{jar}:{stubs}:{tools['json']}"


def _run_app(classpath: str, assets: Path, work: Path, *sizes: int, props: tuple[str, ...] = ()) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    r = _run(["java", *props, f"-Deffmod.work={work}", f"-Deffmod.python={sys.executable}",
              f"-Deffmod.bridge={CHECK / 'bridge.py'}", "-cp", classpath, "dev.effmod.check.HarnessKt",
              str(assets), str(work), *map(str, sizes)])
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return json.loads((work / "report.json").read_text())


@pytest.fixture(scope="module")
def int8_io_tflite(tmp_path_factory):
    out = tmp_path_factory.mktemp("int8io")
    assert main(["export", "--target", "tflite", "--quantize", "int8", "--io", "int8", "--output", str(out)]) == 0
    return next(out.glob("*.tflite"))


def _package(artifact: Path, out: Path) -> Path:
    assert main(["package", "--app", "android", "--artifact", str(artifact), "--output", str(out)]) == 0
    return out / "EffmodDemo" / "app" / "src" / "main" / "assets"


def _effmod_resize(size: tuple[int, int], data_config) -> tuple[int, int]:
    """The size effmod's own resize_crop scales an image of ``size`` to (its real code, PIL's resize seen)."""
    from effmod.eval.images import resize_crop

    seen = []
    original = Image.Image.resize
    Image.Image.resize = lambda self, s, *a, **k: seen.append(tuple(s)) or original(self, s, *a, **k)
    try:
        resize_crop(Image.new("RGB", size), data_config)
    finally:
        Image.Image.resize = original
    return seen[0]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["tflite", "tflite-int8-io", "executorch"])
def test_app_logic_runs_on_the_jvm_like_effmod(harness, small_artifacts, int8_io_tflite, kind, tmp_path):
    from effmod.eval.images import normalized_chw
    from effmod.manifest import Manifest
    from effmod.targets.base import quantize_input

    artifact = {"tflite": small_artifacts["tflite"], "executorch": small_artifacts["executorch"],
                "tflite-int8-io": int8_io_tflite}[kind]
    assets = _package(artifact, tmp_path / "app")
    config = json.loads((assets / "effmod_config.json").read_text())
    report = _run_app(harness, assets, tmp_path / "work", 128, 201, 201, 128, 333, 500)

    # the tensor the app builds is effmod's, bit for bit
    manifest = Manifest.for_artifact(assets / config["model_file"])
    data_config = manifest.data_config()
    ours = normalized_chw(Image.open(assets / config["self_test"]["image"]).convert("RGB"), data_config)
    chw = np.frombuffer((tmp_path / "work" / "chw.bin").read_bytes(), "<f4").reshape(ours.shape)
    assert np.array_equal(chw, ours)
    # the bytes handed to the runtime: the float tensor, or effmod's input quantization of it
    sent = (tmp_path / "work" / "bridge-in.bin").read_bytes()
    if config["input"]["dtype"] == "int8":
        assert sent == quantize_input(ours, config["input"]["scale"], config["input"]["zero_point"], np.int8).tobytes()
    else:
        assert sent == ours.astype("<f4").tobytes()
    # the real runtime's answer, read back by the app's code, is the packaged self-test's top-1
    assert report["top"][0]["index"] == config["self_test"]["expected_top1"], report["top"]
    assert report["bridge_calls"] == ["executorch threads=2" if kind == "executorch" else "tflite threads=2 on CPU"]
    assert report["open_asset_fds"] == 0  # every AssetFileDescriptor the app opened is closed
    assert report["open_litert_handles"] == 0  # Environment, CompiledModel and its buffers all closed
    if kind != "executorch":  # the model CompiledModel loaded from the assets is the packaged file
        assert (tmp_path / "work" / "model-as-loaded.tflite").read_bytes() == (assets / config["model_file"]).read_bytes()
        # the app's scores are the runtime's output, dequantized (int8 I/O) with the manifest's scale and
        # zero point: CompiledModel reports no quantization, so a wrong one in the config would show here
        raw = (tmp_path / "work" / "bridge-out.bin").read_bytes()
        out = config["output"]
        y = (np.frombuffer(raw, np.int8).astype(np.float64) - out["zero_point"]) * out["scale"] \
            if out["dtype"] == "int8" else np.frombuffer(raw, "<f4").astype(np.float64)
        p = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        assert np.allclose([t["score"] for t in report["top"]], np.sort(p)[::-1][:5], atol=1e-6), report["top"]
    for r in report["resize"]:  # resize sizes are effmod's (ties to even: 128x201 -> 64x100)
        assert tuple(r["scaled"]) == _effmod_resize(tuple(r["in"]), data_config), r
        assert tuple(r["out"]) == tuple(config["crop"]["size"][::-1])

    if kind == "executorch":
        # an app update with a new model of the same size: the stale copy in filesDir is replaced
        copy = tmp_path / "work" / "files" / config["model_file"]
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == config["artifact_sha256"]
        copy.write_bytes(b"\0" * copy.stat().st_size)
        again = _run_app(harness, assets, tmp_path / "work")
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == config["artifact_sha256"]
        assert again["top"][0]["index"] == config["self_test"]["expected_top1"]


@pytest.mark.slow
@pytest.mark.parametrize("gpu", ["missing", "refuses"])
def test_the_app_names_the_accelerator_that_ran(harness, small_artifacts, tmp_path, gpu):
    """GPU asked for on a device without litert-gpu, or whose GPU cannot take the model: the app runs on the
    CPU and says so and why, instead of reporting the accelerator it asked for."""
    assets = _package(small_artifacts["tflite"], tmp_path / "app")
    props = ("-Deffmod.gpu=1", *(["-Deffmod.gpu.available=1"] if gpu == "refuses" else []))
    report = _run_app(harness, assets, tmp_path / "work", props=props)
    first, why = report["description"].split("\n")
    assert first == "LiteRT CompiledModel on CPU (XNNPACK), 2 threads", report["description"]
    assert why.startswith("GPU not used: " + ("no GPU accelerator" if gpu == "missing" else "GPU refused the model")), why
    assert report["bridge_calls"] == ["tflite threads=2 on CPU"] and report["open_litert_handles"] == 0


def test_app_runtime_versions_follow_effmods_pins():
    gradle = (APP / "app" / "build.gradle.kts").read_text()
    pins = (REPO / "pyproject.toml").read_text()
    versions = dict(re.findall(r'val (litert|executorch) = "([^"]+)"', gradle))
    assert versions["executorch"] == re.search(r'"executorch==([^"]+)"', pins).group(1)
    lo = re.search(r'"ai-edge-litert>=([0-9.]+),<', pins).group(1)
    assert versions["litert"].split(".")[:2] == lo.split(".")[:2]
    # 2.3.0: CompiledModel + CPU in `litert`, the GPU accelerator in `litert-gpu` (which pulls litert-gpu-api)
    declared = re.findall(r'"com\.google\.ai\.edge\.litert:([a-z-]+):\$litert"', gradle)
    assert sorted(declared) == ["litert", "litert-gpu"], declared
    assert '"org.pytorch:executorch-android:$executorch"' in gradle
