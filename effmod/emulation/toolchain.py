"""The ARM toolchain, fetched once into a cache folder (default ``~/.cache/effmod/arm64``, or
``$EFFMOD_ARM64_CACHE``) by package name through the ordinary clients, no emulated code run while fetching:

- ``qemu/qemu-aarch64``: QEMU user-mode from Debian 13's ``qemu-user`` (QEMU 10: the Cortex-A53/A55/A710
  and Neoverse models, an arm64 ``/proc/cpuinfo``). Debian 12's QEMU 7.2 crashes LiteRT and ONNX Runtime
  without a faked cpuinfo and its ``-cpu max`` (SME) computes wrong INT8 logits: older QEMUs are refused.
- ``rootfs/``: an arm64 Python 3.11 userland from Debian 12 (``mmdebstrap --variant=extract``).
- ``site-<runtime>-<version>/``: the aarch64 wheels of exactly the runtime version installed here
  (``pip install --target --platform manylinux_2_28_aarch64 --only-binary=:all:``).

The Debian mirror is the one this machine's apt configuration names. Each part is built in a temporary
folder beside its place and renamed into place whole, so a killed set-up leaves nothing half-written."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import EffmodError
from ..placement import clean_stale_temp, temp_dir
from ..versions import installed

MIN_QEMU = (10, 0)
QEMU_SUITE = "trixie"       # Debian 13: qemu-user 10.x
ROOTFS_SUITE = "bookworm"   # Debian 12: python3.11, the Python the wheels are built for
ROOTFS_PACKAGES = "python3.11,libstdc++6,libgcc-s1"
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_27_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64")


@dataclass(frozen=True)
class Toolchain:
    qemu: Path
    qemu_version: str
    rootfs: Path
    cache: Path

    @property
    def python(self) -> Path:
        return self.rootfs / "usr" / "bin" / "python3.11"

    def site(self, package: str) -> Path:
        return self.cache / f"site-{package}-{installed(package)}"


def cache_dir() -> Path:
    return Path(os.environ.get("EFFMOD_ARM64_CACHE") or Path.home() / ".cache" / "effmod" / "arm64")


def apt_mirror() -> str:
    """The Debian mirror this machine's apt configuration names (deb822 or one-line sources)."""
    texts = []
    for f in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if f.is_file() and f.suffix in ("", ".list", ".sources"):
            texts.append(f.read_text(errors="replace"))
    for line in "\n".join(texts).splitlines():
        m = re.match(r"^\s*(?:URIs:|deb)\s+(?:\[[^]]*\]\s+)?(https?://\S+/debian)/?\s*$", line) or \
            re.match(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(https?://\S+/debian)/?\s", line)
        if m:
            return m.group(1)
    raise EffmodError("no Debian mirror in this machine's apt sources (/etc/apt/sources.list*)",
                      hint="add a Debian mirror to apt's sources, or run effmod setup arm64 on a Debian machine")


def _writable(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        probe = cache / ".effmod-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise EffmodError(f"the ARM toolchain cache {cache} is not writable ({e.strerror})",
                          hint="set EFFMOD_ARM64_CACHE to a writable folder") from None


def _run(cmd: list[str], what: str, hint: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except FileNotFoundError:
        raise EffmodError(f"{cmd[0]} not found (needed to {what})", hint=hint) from None
    except subprocess.TimeoutExpired:
        raise EffmodError(f"{what} took over 30 minutes", hint="check the network to the package registries") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise EffmodError(f"could not {what}: {tail[:300]}", hint=hint)


def _build(final: Path, make) -> Path:
    """``make(tmp)`` fills a temporary folder beside ``final``, which is then renamed into place."""
    if final.exists():
        return final
    tmp = temp_dir(final.parent)  # named after this process: the next set-up cleans it if this one is killed
    try:
        make(tmp)
        tmp.replace(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _mmdebstrap(arch: str, packages: str, suite: str, into: Path) -> None:
    hint = "install it: apt-get install mmdebstrap (effmod setup arm64 needs it once)"
    if shutil.which("mmdebstrap") is None:
        raise EffmodError("mmdebstrap not found (it unpacks Debian packages for the ARM toolchain)", hint=hint)
    _run(["mmdebstrap", "--quiet", "--variant=extract", f"--architectures={arch}", f"--include={packages}", suite,
          str(into), apt_mirror()], f"unpack {packages} ({suite}, {arch})",
         "check the network to the Debian mirror and that mmdebstrap runs (it needs root or unshare)")


def _make_qemu(tmp: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp.parent) as tree:
        _mmdebstrap("amd64", "qemu-user", QEMU_SUITE, Path(tree) / "root")
        shutil.copy2(Path(tree) / "root" / "usr" / "bin" / "qemu-aarch64", tmp / "qemu-aarch64")


def qemu_version(qemu: Path) -> tuple[str, tuple[int, int]]:
    out = subprocess.run([str(qemu), "--version"], capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"version (\d+)\.(\d+)(?:\.\d+)?", out)
    if not m:
        raise EffmodError(f"{qemu} printed no version", hint="delete the ARM cache and run effmod setup arm64 again")
    return m.group(0).split()[-1], (int(m.group(1)), int(m.group(2)))


def _make_site(package: str, tmp: Path) -> None:
    version = installed(package)
    if version is None:
        raise EffmodError(f"{package} is not installed here, so there is no version to match on ARM",
                          hint="pip install -e '.[all]'")
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-conflicts", "--disable-pip-version-check",
          "--target", str(tmp), *platforms, "--python-version", "3.11", "--only-binary=:all:", f"{package}=={version}"],
         f"fetch the aarch64 wheels of {package}=={version}",
         "check the network to the package registry (pip), or that an aarch64 wheel of that version exists")


def ensure(packages: tuple[str, ...], stage=None) -> Toolchain:
    """The toolchain with the sites of ``packages``, fetched where missing. ``stage(what)`` is a context
    manager for progress (the console's reporter.stage)."""
    cache = cache_dir()
    _writable(cache)
    clean_stale_temp(cache)  # parts a killed set-up left half-made
    step = stage or (lambda what: _Null())
    with step("ARM toolchain: QEMU 10 user-mode (Debian 13 qemu-user)"):
        qemu = _build(cache / "qemu", _make_qemu) / "qemu-aarch64"
    version, parsed = qemu_version(qemu)
    if parsed < MIN_QEMU:
        raise EffmodError(f"{qemu} is QEMU {version}; effmod needs {MIN_QEMU[0]}.{MIN_QEMU[1]} or newer (QEMU 7.2's "
                          "-cpu max computes wrong INT8 results)", hint=f"delete {cache / 'qemu'} and run effmod setup arm64")
    with step("ARM toolchain: arm64 Python 3.11 userland (Debian 12)"):
        rootfs = _build(cache / "rootfs", lambda tmp: _mmdebstrap("arm64", ROOTFS_PACKAGES, ROOTFS_SUITE, tmp))
    chain = Toolchain(qemu, version, rootfs, cache)
    for p in packages:
        with step(f"ARM toolchain: aarch64 wheels of {p}=={installed(p)}"):
            _build(chain.site(p), lambda tmp, p=p: _make_site(p, tmp))
    return chain


def status(packages: tuple[str, ...]) -> dict[str, str]:
    """What is ready and what ``effmod setup arm64`` would fetch (effmod doctor)."""
    cache = cache_dir()
    ready = {"qemu": (cache / "qemu" / "qemu-aarch64").is_file(), "rootfs": (cache / "rootfs").is_dir()}
    out = {"QEMU 10 user-mode": "ready" if ready["qemu"] else "would fetch Debian 13 qemu-user",
           "Python 3.11": "ready" if ready["rootfs"] else "would unpack Debian 12 python3.11 (arm64)"}
    for p in packages:
        site = cache / f"site-{p}-{installed(p)}"
        out[p] = "ready" if site.is_dir() else f"would fetch {p}=={installed(p)} aarch64 wheels"
    if shutil.which("mmdebstrap") is None and not all(ready.values()):
        out["mmdebstrap"] = "missing: apt-get install mmdebstrap"
    return out


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
