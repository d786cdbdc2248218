"""Machine and version facts recorded with every latency number."""
from __future__ import annotations

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


def machine_info() -> dict:
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "effmod": effmod_version(),
            "versions": {p: installed(p) for p in PINS}}
