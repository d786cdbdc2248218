"""Phone kernels on Linux (``--arch arm64``): the artifact in the aarch64 build of its own runtime, under
QEMU user-mode, once per emulated CPU, judged by the same gates as the x86 run and compared with the x86
run of the same artifact on the same images.

What it proves: the arithmetic and the kernel choice of the aarch64 runtime for each CPU's features
(plain NEON, the dot product, i8mm, SME). What it does not: speed (emulation), or anything a real phone
adds (its own build of the runtime, a GPU/NPU delegate)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..console import Reporter
from ..emulation import DEFAULT_CPUS, ArmOutput, Toolchain, check_cpus, ensure, run_on_cpu
from ..errors import EffmodError
from ..eval.metrics import compare
from ..manifest import TensorSpec
from ..parity import Arm64Parity, CpuRun, judge
from ..precision import Precision
from ..targets import Target
from .inputs import ValidationData

INTEGER_FAMILIES = ("neon", "dotprod", "i8mm")  # integer kernels: exact, so these CPUs must agree bit for bit


@dataclass(frozen=True)
class Arm64Request:
    cpus: tuple[str, ...] = DEFAULT_CPUS
    images: int | None = None          # at most this many of the parity images (None: all of them)
    threads: int = 2


@dataclass(frozen=True)
class Arm64Inputs:
    """What the x86 check of the same artifact used and produced, on the same images."""

    validation: ValidationData
    reference: np.ndarray              # PyTorch fp32
    x86: np.ndarray                    # the artifact's outputs in the x86 runtime
    simulated: np.ndarray | None = None
    simulated_desc: str | None = None


def refuse_unsupported(target: Target, artifact: Path) -> None:
    """Before any work: a target whose artifacts effmod cannot run on emulated ARM is one line."""
    if target.arm64.worker is None:
        raise EffmodError(f"--arch arm64 cannot run {artifact.name}: {target.arm64.unavailable}",
                          hint="check a .tflite or .onnx export on ARM")


def _cpu_run(out: ArmOutput, inputs: Arm64Inputs, n: int, precision: Precision, target: Target,
             overrides: dict | None) -> CpuRun:
    v = inputs.validation
    sim = inputs.simulated[:n] if inputs.simulated is not None else None
    verdict = judge(out.logits, inputs.reference[:n], precision, f"{n} of {v.description}", out.engine,
                    v.in_distribution, overrides, sim, inputs.simulated_desc, target.correctness_bounds.get(precision),
                    None, v.path)
    x86 = inputs.x86[:n]
    vs = compare(x86, out.logits)
    return CpuRun(cpu=out.cpu, kernel_family=out.kernel_family, features=list(out.features), engine=out.engine,
                  status=verdict.status, correctness=verdict.correctness, quality=verdict.quality,
                  max_abs_vs_x86=float(np.abs(out.logits - x86).max()), logits_differ=int((out.logits != x86).sum()),
                  logits=int(x86.size), top1_agreement_vs_x86=vs.top1_agreement, sqnr_vs_x86_db=round(vs.sqnr_db, 2),
                  seconds=out.seconds, failures=[f"{out.cpu}: {f}" for f in verdict.failures])


def _group_and_guard(runs: list[CpuRun], outs: list[ArmOutput], precision: Precision) -> list[str]:
    """Mark bit-identical runs; INT8 runs of the integer kernel families must all agree bit for bit
    (they do on real cores and on QEMU 10): if not, the emulator is not computing what a CPU would."""
    for i, (run, out) in enumerate(zip(runs, outs)):
        run.same_as = next((outs[j].cpu for j in range(i) if np.array_equal(outs[j].logits, out.logits)), None)
    integer = [(r, o) for r, o in zip(runs, outs) if r.kernel_family in INTEGER_FAMILIES]
    if precision != "int8" or len(integer) < 2:
        return []
    (r0, o0), rest = integer[0], integer[1:]
    bad = [r.cpu for r, o in rest if not np.array_equal(o.logits, o0.logits)]
    if bad:
        return [f"emulated {', '.join(bad)} and {r0.cpu} disagree bit for bit, which integer kernels never do: "
                f"this emulator configuration computes wrongly (not a fault of the model)"]
    return []


def prepare(target: Target, artifact: Path, request: Arm64Request, reporter: Reporter) -> Toolchain:
    """Before any other work: the target has an aarch64 runtime, the toolchain is there (fetched once,
    with progress) and QEMU knows every CPU asked for."""
    refuse_unsupported(target, artifact)
    chain = ensure((target.arm64.package,), reporter.stage)
    check_cpus(chain, list(request.cpus))
    return chain


def check_arm64(chain: Toolchain, target: Target, artifact: Path, input_spec: TensorSpec | None,
                precision: Precision, inputs: Arm64Inputs, request: Arm64Request, reporter: Reporter,
                overrides: dict | None = None) -> Arm64Parity:
    support = target.arm64
    x = inputs.validation.x
    n = len(x) if request.images is None else max(1, min(request.images, len(x)))
    layout = (input_spec.layout if input_spec is not None else None) or "NCHW"
    outs, runs = [], []
    for cpu in request.cpus:
        with reporter.stage(f"arm64: {artifact.name} on emulated {cpu} ({n} images)"):
            out = run_on_cpu(chain, chain.site(support.package), support.worker, artifact, layout, x[:n], cpu,
                             request.threads)
        outs.append(out)
        runs.append(_cpu_run(out, inputs, n, precision, target, overrides))
    failures = [f for r in runs for f in r.failures] + _group_and_guard(runs, outs, precision)
    return Arm64Parity(emulator=f"qemu-aarch64 {chain.qemu_version} (user mode)",
                       runtime=f"{support.package} {outs[0].runtime_version} aarch64", n_images=n,
                       data=f"{n} of {inputs.validation.description}", status="failed" if failures else "passed",
                       cpus=runs, failures=failures)


def attach(result, arm: Arm64Parity) -> None:
    """Attach the ARM check to a parity result; an ARM failure fails it, with the CPU named."""
    result.arm64 = arm
    for f in arm.failures:
        result.fail(f"arm64: {f}")
