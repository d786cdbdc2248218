"""Run an artifact in the aarch64 build of its runtime under QEMU user-mode, one emulated CPU per process."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import EffmodError
from .toolchain import Toolchain

WORKER = Path(__file__).with_name("worker.py")
# One kernel family per generation of phone cores: plain NEON (Cortex-A53), the dot product (A55/A76),
# the 8-bit matrix multiply (A710/X2). QEMU emulates each model's features.
DEFAULT_CPUS = ("cortex-a53", "cortex-a55", "cortex-a710")
TIMEOUT_S = 900


@dataclass(frozen=True)
class ArmOutput:
    cpu: str
    logits: np.ndarray
    features: tuple[str, ...]
    engine: str
    runtime_version: str
    seconds: float

    @property
    def kernel_family(self) -> str:
        return kernel_family(self.features)


def kernel_family(features) -> str:
    """Which INT8 kernels XNNPACK-style runtimes pick on a CPU with these features."""
    f = set(features)
    for name, needs in (("sme", "sme"), ("i8mm", "i8mm"), ("dotprod", "asimddp"), ("neon", "asimd")):
        if needs in f:
            return name
    return "scalar"


def known_cpus(chain: Toolchain) -> list[str]:
    out = subprocess.run([str(chain.qemu), "-cpu", "help"], capture_output=True, text=True, timeout=60).stdout
    return [line.split()[0] for line in out.splitlines()[1:] if line.strip()]


def check_cpus(chain: Toolchain, cpus: list[str]) -> None:
    known = known_cpus(chain)
    unknown = [c for c in cpus if c not in known]
    if unknown:
        raise EffmodError(f"QEMU {chain.qemu_version} does not know the CPU {unknown[0]}",
                          hint="choose from " + ", ".join(known))


def run_on_cpu(chain: Toolchain, site: Path, runtime: str, artifact: Path, layout: str, x: np.ndarray, cpu: str,
               threads: int = 2) -> ArmOutput:
    """``x`` (NCHW float32) through ``artifact`` on the emulated ``cpu``; the worker feeds ``layout``."""
    with tempfile.TemporaryDirectory(prefix="effmod-arm64-") as tmp:
        inputs, outputs, job = Path(tmp) / "x.npy", Path(tmp) / "y.npy", Path(tmp) / "job.json"
        np.save(inputs, np.ascontiguousarray(x, np.float32))
        job.write_text(json.dumps({"runtime": runtime, "artifact": str(Path(artifact).resolve()), "inputs": str(inputs),
                                   "outputs": str(outputs), "layout": layout, "threads": threads}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_", "OPENBLAS"))}
        env.update(PYTHONPATH=str(site), PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1")
        cmd = [str(chain.qemu), "-cpu", cpu, "-L", str(chain.rootfs), str(chain.python), str(WORKER), str(job)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
        except subprocess.TimeoutExpired:
            raise EffmodError(f"{artifact.name} on emulated {cpu}: no result after {TIMEOUT_S} s",
                              hint="pass --arm-images with fewer images") from None
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines or not outputs.is_file():
            tail = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1]
            raise EffmodError(f"{artifact.name} failed in the aarch64 runtime on emulated {cpu}: {tail[:300]}",
                              hint="rerun with --debug; effmod doctor shows the ARM toolchain")
        meta = json.loads(lines[-1])
        return ArmOutput(cpu, np.load(outputs).astype(np.float32), tuple(meta["features"]), meta["engine"],
                         meta["runtime_version"], float(meta["seconds"]))
