"""Machine and version facts recorded with every latency number."""
from __future__ import annotations

import functools
import os
import platform

from .versions import PINS, effmod_version, installed


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The x86 flags that decide which INT8/fp16 kernels a runtime picks (recorded with every timing)
KERNEL_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512_fp16", "amx_int8", "amx_bf16")
_DOT_PRODUCT = ("avx512_vnni", "avx_vnni", "amx_int8")


@functools.cache  # every runner asks (u8s8_saturates); the flags do not change while we run
def cpu_flags() -> frozenset[str]:
    """This CPU's flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:  # no /proc/cpuinfo (not Linux): no flags known
        return frozenset()
    return frozenset()


def kernel_flags() -> list[str]:
    flags = cpu_flags()
    return [f for f in KERNEL_FLAGS if f in flags]


def u8s8_saturates() -> bool:
    """x86 without an 8-bit dot product (VNNI/AMX): onnxruntime's default U8S8 kernels sum pairs of
    products in 16 bits (vpmaddubsw) and saturate. Measured here on an AMD EPYC with AVX2 only: the
    built-in model's INT8 .onnx fell to SQNR 0.3 dB, top-1 47 %."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    flags = cpu_flags()
    return "avx2" in flags and not any(f in flags for f in _DOT_PRODUCT)


def machine_info() -> dict:
    return {"cpu": cpu_model(), "cpu_flags": kernel_flags(), "cores": os.cpu_count(),
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "effmod": effmod_version(), "versions": {p: installed(p) for p in PINS}}
