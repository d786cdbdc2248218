"""ARM64 runtimes under QEMU user-mode, on any Linux machine: the toolchain (QEMU 10, an arm64 Python,
the aarch64 wheels of the pinned runtimes; ``toolchain.py``), a worker the emulated Python runs
(``worker.py``: numpy and the runtime only) and the run of one artifact on one emulated CPU (``run.py``)."""
from .run import DEFAULT_CPUS, ArmOutput, check_cpus, kernel_family, known_cpus, run_on_cpu
from .toolchain import Toolchain, cache_dir, ensure, status

__all__ = ["DEFAULT_CPUS", "ArmOutput", "Toolchain", "cache_dir", "check_cpus", "ensure", "kernel_family",
           "known_cpus", "run_on_cpu", "status"]
