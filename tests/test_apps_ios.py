"""The iOS demo app, checked by the real Swift compiler (apps/check/swift/, apps/README.md):

- every .swift file of a packaged app type-checks against the project's stubs of the CoreML / SwiftUI /
  PhotosUI / UIKit / CoreGraphics symbols it uses (apps/check/swift/stubs), and injected errors fail;
- AppConfig.swift, unchanged, builds with SwiftPM and loads the packaged config and labels.

The toolchain is Debian trixie's Swift, unpacked by apps/check/swift/install.sh (which .ci/run runs) and
run in a chroot with a private /proc; without it, or where that chroot cannot run, these tests skip and
say why.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SWIFT = REPO / "apps" / "check" / "swift"
TEMPLATE = REPO / "apps" / "ios" / "EffmodDemo.swiftpm" / "Sources"


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def swift_root():
    root = Path(os.environ.get("EFFMOD_TOOLS", Path.home() / ".cache" / "effmod" / "tools")) / "swift"
    if not (root / ".effmod-swift-ready").is_file():
        pytest.skip(f"Swift toolchain not in {root}: run apps/check/swift/install.sh (CI does; needs mmdebstrap, 2.5 GB)")
    r = _run([str(SWIFT / "swiftc"), str(root), "-version"])
    if r.returncode != 0:
        pytest.skip(f"the Swift chroot cannot run here (needs root or CAP_SYS_ADMIN): {(r.stderr or r.stdout).strip()[:200]}")
    version = re.search(r"Swift version (\d+)\.(\d+)", r.stdout + r.stderr)
    if not version or tuple(map(int, version.groups())) < (5, 9):
        pytest.skip(f"Swift {version.group(0) if version else '(unknown version)'} in {root}: the check needs 5.9+ "
                    f"(rm -rf {root} and run apps/check/swift/install.sh)")
    return root


@pytest.fixture(scope="module")
def ios_app(small_artifacts, tmp_path_factory):
    from effmod.commands.package.project import package_app

    out = tmp_path_factory.mktemp("ios")
    package_app("ios", small_artifacts["coreml"], output=out)
    return out


def _typecheck(root: Path, sources: Path):
    return _run(["bash", str(SWIFT / "typecheck.sh"), str(root), str(sources)])


def test_the_packaged_ios_app_type_checks_and_loads_its_config(swift_root, ios_app):
    r = _run(["bash", str(SWIFT / "check.sh"), str(ios_app)], env={**os.environ, "EFFMOD_SWIFT_ROOT": str(swift_root)})
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    sources = ios_app / "EffmodDemo.swiftpm" / "Sources"
    n = len(list(sources.glob("*.swift")))
    assert n == len(list(TEMPLATE.glob("*.swift"))) == 6
    assert f"type-checked: {n} Swift files" in r.stderr
    seen = json.loads(r.stdout.strip().splitlines()[-1])  # what AppConfig.swift decoded from the bundle
    config = json.loads((sources / "Bundle" / "effmod_config.json").read_text())
    assert seen == {"model_file": config["model_file"], "input_shape": config["input"]["shape"],
                    "dtype": config["input"]["dtype"], "labels": config["num_classes"],
                    "expected_top1": config["self_test"]["expected_top1"], "crop": config["crop"]["size"]}


# each must fail the check, in the file it was made in
INJECTED = {
    "type error": ("BenchmarkView.swift", "@State private var runs = 100", "@State private var runs: Int = \"100\""),
    "Core ML misuse": ("Classifier.swift", "modelConfig.computeUnits = computeUnits", "modelConfig.computeUnits = .gpuOnly"),
    "SwiftUI misuse": ("ClassifyView.swift", "Text(p.label)", "Text(p.index)"),
    "UIKit misuse": ("SelfTest.swift", "UIImage(contentsOfFile: url.path)", "UIImage(contentsOfFile: url)"),
}


@pytest.mark.parametrize("kind", sorted(INJECTED))
def test_an_injected_error_fails_the_swift_check(swift_root, tmp_path, kind):
    file, old, new = INJECTED[kind]
    broken = tmp_path / "Sources"
    shutil.copytree(TEMPLATE, broken)
    text = (broken / file).read_text()
    assert old in text, f"{file} no longer has {old!r}: update the injected error"
    (broken / file).write_text(text.replace(old, new, 1))
    r = _typecheck(swift_root, broken)
    assert r.returncode != 0 and f"{file}:" in r.stderr and "error:" in r.stderr, r.stderr[-3000:]
