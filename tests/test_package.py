"""effmod package: the packaged trees, their config against the manifest, the self-test expectation
re-checked in the real runtimes, refusals, and static checks that the Swift/Kotlin sources read
exactly the packaged file names and config keys. (No Xcode or Android SDK here: nothing is built.)"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from effmod.cli import main
from effmod.errors import EffmodError
from effmod.commands.package.project import APPS, package_app
from effmod.commands.package.app_config import CONFIG_FILE, LABELS_FILE, SELFTEST_FILE
from effmod.targets import load_runner

REPO = Path(__file__).resolve().parents[1]
IOS_SRC = REPO / "apps/ios/EffmodDemo.swiftpm/Sources"
ANDROID_SRC = REPO / "apps/android/EffmodDemo/app/src/main/java/dev/effmod/demo"


@pytest.fixture(scope="module")
def artifacts(small_artifacts):
    return small_artifacts


def _keys(obj, prefix=""):
    keys = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            keys.add(k)
            keys |= _keys(v)
    return keys


def _check_tree(info, app, artifact):
    bundle = Path(info["bundle"])
    config = json.loads((bundle / CONFIG_FILE).read_text())
    manifest = json.loads(Path(f"{artifact}.json").read_text())
    model_file = bundle / config["model_file"]
    assert model_file.exists() and config["model_file"] == "model" + artifact.suffix
    assert config["input"] == manifest["input"] and config["output"] == manifest["output"]
    assert config["mean"] == manifest["preprocessing"]["mean"] and config["std"] == manifest["preprocessing"]["std"]
    assert config["artifact_sha256"] == manifest["artifact_sha256"]
    labels = (bundle / LABELS_FILE).read_text().splitlines()
    assert len(labels) == config["num_classes"] == manifest["output"]["shape"][-1]
    test = config["self_test"]
    assert test["image"] == SELFTEST_FILE and test["preprocessed"] is True
    assert labels[test["expected_top1"]] == test["expected_label"]
    img = Image.open(bundle / SELFTEST_FILE)
    assert list(img.size) == manifest["input"]["shape"][2:][::-1]
    # The phone's check, re-run here on the packaged copy in its real runtime.
    x = (np.asarray(img.convert("RGB"), np.float32) / 255.0 - np.float32(config["mean"])) / np.float32(config["std"])
    logits = load_runner(model_file)(x.transpose(2, 0, 1)[None].copy())  # reads the manifest beside it
    assert int(np.argmax(logits[0])) == test["expected_top1"]
    return config, bundle


@pytest.mark.parametrize("app,target", [("android", "tflite"), ("android", "executorch"), ("ios", "coreml")])
def test_package_tree_and_self_test(artifacts, tmp_path, app, target):
    info = package_app(app, artifacts[target], output=tmp_path, name="Demo1")
    config, bundle = _check_tree(info, app, artifacts[target])
    assert config["runtime"] == {"tflite": "tflite", "executorch": "executorch", "coreml": "coreml"}[target]
    project = Path(info["project"])
    if app == "ios":
        assert project.name == "Demo1.swiftpm"
        assert 'name: "Demo1"' in (project / "Package.swift").read_text()
    else:
        assert 'rootProject.name = "Demo1"' in (project / "settings.gradle.kts").read_text()
        assert ">Demo1<" in (project / "app/src/main/res/values/strings.xml").read_text()
    assert not (bundle / "README.md").exists()
    assert not list(tmp_path.glob(".effmod-package-*"))  # the staging dir is gone


def test_packaged_artifact_validates(artifacts, tmp_path):
    info = package_app("android", artifacts["tflite"], output=tmp_path)
    data = tmp_path / "selftest_only"
    data.mkdir()
    shutil.copy(Path(info["bundle"]) / SELFTEST_FILE, data)
    assert main(["validate", str(Path(info["bundle"]) / "model.tflite"), "--data", str(data)]) == 0


def test_refusals_write_nothing(artifacts, tmp_path):
    with pytest.raises(EffmodError, match="not an artifact the ios app runs.*--app android"):
        package_app("ios", artifacts["tflite"], output=tmp_path / "a")
    with pytest.raises(EffmodError, match=r"not an artifact the android app runs \(it takes .tflite, .pte\)"):
        package_app("android", artifacts["onnx"], output=tmp_path / "b")
    lone = tmp_path / "lone.tflite"
    shutil.copy(artifacts["tflite"], lone)
    with pytest.raises(EffmodError, match="no manifest beside"):
        package_app("android", lone, output=tmp_path / "c")
    with pytest.raises(EffmodError, match="not a valid app name"):
        package_app("android", artifacts["tflite"], output=tmp_path / "d", name="my app")
    assert not any((tmp_path / d).exists() for d in "abcd")
    package_app("android", artifacts["tflite"], output=tmp_path / "e")
    with pytest.raises(EffmodError, match="already exists.*--force"):
        package_app("android", artifacts["tflite"], output=tmp_path / "e")


def test_cli_refusal_is_one_line(artifacts, tmp_path, capsys):
    assert main(["package", "--app", "ios", "--artifact", str(artifacts["executorch"]), "--output", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "not an artifact the ios app runs" in out and "Traceback" not in out


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()  # as Swift's convertFromSnakeCase inverts


def test_app_sources_read_exactly_the_packaged_names(artifacts, tmp_path):
    """Static contract checks: every config key the app code reads exists in a packaged config, and
    the file names and folders the code opens are the ones effmod package writes."""
    ios = json.loads((Path(package_app("ios", artifacts["coreml"], output=tmp_path)["bundle"]) / CONFIG_FILE).read_text())
    android = json.loads((Path(package_app("android", artifacts["tflite"], output=tmp_path)["bundle"])
                          / CONFIG_FILE).read_text())

    swift = (IOS_SRC / "AppConfig.swift").read_text()
    props = re.findall(r"^\s*let (\w+):", swift, flags=re.M)
    assert {"modelFile", "labelsFile", "selfTest", "expectedTop1", "mean", "std"} <= set(props)
    missing = [p for p in props if _snake(p) not in _keys(ios)]
    assert not missing, f"Swift reads keys the config lacks: {missing}"
    assert "convertFromSnakeCase" in swift
    assert f'fileName = "{CONFIG_FILE}"' in swift
    assert f'subdirectory: "{Path(APPS["ios"].bundle_dir).name}"' in swift
    assert f'.copy("{Path(APPS["ios"].bundle_dir).name}")' in (REPO / "apps/ios/EffmodDemo.swiftpm/Package.swift").read_text()

    kotlin = "\n".join(p.read_text() for p in ANDROID_SRC.glob("*.kt"))
    read = set(re.findall(r'\.(?:get|opt)(?:String|Int|Long|Double|Boolean|JSONObject|JSONArray)\("(\w+)"', kotlin))
    assert {"model_file", "labels_file", "self_test", "expected_top1", "mean", "std", "input"} <= read
    missing = [k for k in read - {"scale", "zero_point"} if k not in _keys(android)]
    assert not missing, f"Kotlin reads keys the config lacks: {missing}"
    assert f'CONFIG_FILE = "{CONFIG_FILE}"' in kotlin
    assert APPS["android"].bundle_dir.endswith("/assets")  # Kotlin opens them with context.assets
    assert re.search(r'"tflite"\s*->', kotlin) and re.search(r'"executorch"\s*->', kotlin)


def test_swift_sources_keep_the_two_ios_fixes():
    """Static checks for what Linux cannot run (no Core ML): (1) every MLMultiArray buffer closure uses
    the strides it is given (Apple documents the storage may be padded); (2) the model is compiled only
    inside the ModelCompiler actor, so a benchmark started during the launch self-test waits for the
    first compile instead of racing its move into place. Both failed on the earlier sources."""
    sources = {p.name: p.read_text() for p in IOS_SRC.glob("*.swift")}
    for name, text in sources.items():
        ignored = re.findall(r"withUnsafeMutableBufferPointer\([^)]*\)\s*\{\s*\w+\s*,\s*_\s+in", text)
        assert not ignored, f"{name} ignores the multi-array's strides: {ignored}"
    calls = [(name, m.start()) for name, text in sources.items() for m in re.finditer(r"compileModel\(at:", text)]
    assert len(calls) == 1, calls
    name, at = calls[0]
    text = sources[name]
    actor = text.index("actor ModelCompiler")
    assert actor < at < text.index("\n}\n", actor), "MLModel.compileModel is called outside the ModelCompiler actor"


def test_the_built_in_model_s_self_test_is_a_validation_image_with_its_true_class(builtin_int8, tmp_path):
    """A CIFAR-10 model's self-test is one of its own validation images (not a stock photo), the clearest
    one it classifies correctly; the config records the file and its true class."""
    from effmod.commands.package.project import package_app

    info = package_app("android", builtin_int8["tflite"], output=tmp_path / "app")
    test = info["config"]["self_test"]
    assert test["source"].startswith("efficientmod_xxs_cifar10.val/") and test["source"].endswith(".jpg")
    assert test["true_label"] == test["expected_label"] == test["source"].split("/")[1]
    assert test["margin"] > 0.3
