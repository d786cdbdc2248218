"""Phone kernels on Linux: `--arch arm64` runs an artifact in the aarch64 build of its own runtime under
QEMU 10 user-mode (real QEMU, real aarch64 LiteRT and ONNX Runtime wheels), per emulated CPU.

The toolchain is fetched once into its cache (`effmod setup arm64`; .ci/run does it). Where it cannot be
(no mmdebstrap, no network), these tests skip and say so."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


FEW = "50"  # images per emulated CPU: quality is judged from 50 on


@pytest.fixture(scope="module")
def toolchain():
    from effmod.emulation import ensure
    from effmod.errors import EffmodError

    try:
        return ensure(("ai-edge-litert", "onnxruntime"))
    except EffmodError as e:
        pytest.skip(f"the ARM toolchain could not be set up here: {e.one_line()} (CI sets it up with .ci/run)")


def _validate(artifact, tmp_path, *extra, env=None):
    out = tmp_path / "v.json"
    proc = subprocess.run([sys.executable, "-m", "effmod.cli", "validate", str(artifact), "--arch", "arm64",
                           "--arm-images", FEW, "--json", str(out), *extra], capture_output=True, text=True,
                          timeout=1200, env={**os.environ, **(env or {})})
    return proc, (json.loads(out.read_text()) if out.is_file() else None)


@pytest.mark.parametrize("target", ["tflite", "onnx"])
def test_int8_passes_on_three_kernel_families_and_differs_a_little_from_x86(toolchain, builtin_int8, tmp_path,
                                                                               target):
    proc, result = _validate(builtin_int8[target], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    arm = result["arm64"]
    assert arm["status"] == "passed" and arm["n_images"] == int(FEW) and "qemu-aarch64 10." in arm["emulator"]
    cpus = {c["cpu"]: c for c in arm["cpus"]}
    assert set(cpus) == {"cortex-a53", "cortex-a55", "cortex-a710"}
    assert {c["kernel_family"] for c in cpus.values()} == {"neon", "dotprod", "i8mm"}
    for c in cpus.values():
        assert c["correctness"]["status"] == "passed" and c["quality"]["status"] == "passed"
        assert c["top1_agreement_vs_x86"] >= 0.98 and 0 < c["max_abs_vs_x86"] < 0.5, c
        assert c["logits_differ"] > 0  # the aarch64 kernels really ran: not bit-identical to x86
    # integer kernels are exact: the three families agree bit for bit (grouped in one row)
    assert cpus["cortex-a55"]["same_as"] == cpus["cortex-a710"]["same_as"] == "cortex-a53"
    assert "cortex-a710" in proc.stdout and "i8mm" in proc.stdout  # the table: one row for the three


def _tampered_cache(toolchain, tmp_path) -> Path:
    """A cache whose aarch64 ONNX Runtime scales its float outputs by 1.5, but only on CPUs with i8mm:
    a runtime that is wrong on one kernel family, as a miscompiled kernel would be."""
    cache = tmp_path / "cache"
    cache.mkdir()
    for part in ("qemu", "rootfs"):
        (cache / part).symlink_to(toolchain.cache / part)
    site = toolchain.site("onnxruntime")
    copy = cache / site.name
    shutil.copytree(site, copy, copy_function=os.link)
    module = copy / "onnxruntime" / "capi" / "onnxruntime_inference_collection.py"
    text = module.read_text()
    module.unlink()  # a hard link: write a new file, never the shared one
    module.write_text(text + '''
import ctypes as _ctypes
_getauxval = _ctypes.CDLL(None).getauxval
_getauxval.restype, _getauxval.argtypes = _ctypes.c_ulong, [_ctypes.c_ulong]
if _getauxval(26) >> 13 & 1:  # HWCAP2_I8MM
    _run = Session.run
    Session.run = lambda self, *a, **k: [o * 1.5 if getattr(o, "dtype", None) is not None and o.dtype.kind == "f"
                                         else o for o in _run(self, *a, **k)]
''')
    return cache


def test_a_runtime_wrong_on_one_cpu_family_fails_with_the_cpu_named(toolchain, builtin_int8, tmp_path):
    cache = _tampered_cache(toolchain, tmp_path)
    proc, result = _validate(builtin_int8["onnx"], tmp_path, "--cpu", "cortex-a53,cortex-a710",
                             env={"EFFMOD_ARM64_CACHE": str(cache)})
    assert proc.returncode == 2, proc.stdout[-3000:]
    cpus = {c["cpu"]: c for c in result["arm64"]["cpus"]}
    assert cpus["cortex-a710"]["status"] == "failed" and cpus["cortex-a53"]["status"] == "passed"
    assert any("cortex-a710" in f for f in result["failures"])
    assert any("disagree bit for bit" in f for f in result["arm64"]["failures"])  # the emulator guard, too
    assert "cortex-a710" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def _one_line(proc):
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 1 and lines and lines[-1].startswith("error:"), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return lines[-1]


def test_bad_requests_are_one_line_before_any_work(toolchain, small_artifacts, builtin_int8, tmp_path):
    run = lambda *a, env=None: subprocess.run([sys.executable, "-m", "effmod.cli", *a], capture_output=True,  # noqa: E731
                                               text=True, timeout=300, env={**os.environ, **(env or {})})
    line = _one_line(run("validate", str(builtin_int8["tflite"]), "--arch", "arm64", "--cpu", "cortex-z9"))
    assert "does not know the CPU cortex-z9" in line and "cortex-a710" in line
    line = _one_line(run("validate", str(small_artifacts["coreml"]), "--arch", "arm64"))
    assert "Core ML runs only on Apple devices" in line
    line = _one_line(run("validate", str(small_artifacts["executorch"]), "--arch", "arm64"))
    assert "ExecuTorch" in line and "docs/arm64.md" in line
    line = _one_line(run("validate", str(builtin_int8["tflite"]), "--cpu", "cortex-a53"))
    assert "--arch arm64" in line
    blocked = tmp_path / "file"
    blocked.write_text("")
    line = _one_line(run("setup", "arm64", env={"EFFMOD_ARM64_CACHE": str(blocked / "cache")}))
    assert "not writable" in line and "EFFMOD_ARM64_CACHE" in line


def test_a_missing_mmdebstrap_names_the_install_and_leaves_nothing(tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "EFFMOD_ARM64_CACHE": str(cache), "PATH": str(tmp_path / "empty")}
    proc = subprocess.run([sys.executable, "-m", "effmod.cli", "setup", "arm64"], capture_output=True, text=True,
                          timeout=120, env=env)
    line = _one_line(proc)
    assert "mmdebstrap not found" in line and "apt-get install mmdebstrap" in line
    assert [p.name for p in cache.iterdir()] == []  # no half-made part left in the cache


def test_the_kernel_family_comes_from_the_cpu_features():
    from effmod.emulation import kernel_family

    assert kernel_family(["asimd"]) == "neon" and kernel_family(["asimd", "asimddp"]) == "dotprod"
    assert kernel_family(["asimd", "asimddp", "i8mm"]) == "i8mm" and kernel_family(["i8mm", "sme"]) == "sme"


def test_a_killed_set_up_leaves_no_part_in_place_and_is_cleaned(toolchain, tmp_path):
    """A set-up killed while fetching leaves its build folder, never a half-made part; the next one
    removes that folder and builds the part whole."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "qemu").symlink_to(toolchain.cache / "qemu")
    (cache / "rootfs").symlink_to(toolchain.cache / "rootfs")
    litert = toolchain.site("ai-edge-litert")
    (cache / litert.name).symlink_to(litert)  # only the ONNX Runtime wheels are fetched again
    from effmod.placement import _host

    dead = cache / f".effmod-tmp-999999999@{_host()}-x"
    dead.mkdir()
    (dead / "half.whl").write_bytes(b"half")
    proc = subprocess.run([sys.executable, "-m", "effmod.cli", "setup", "arm64"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "EFFMOD_ARM64_CACHE": str(cache)})
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert not dead.exists() and not list(cache.glob(".effmod-tmp-*"))
    assert (cache / f"site-onnxruntime-{toolchain.site('onnxruntime').name.rsplit('-', 1)[1]}").is_dir()
