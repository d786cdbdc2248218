"""Machine and version facts recorded with every benchmark result."""
from __future__ import annotations

import os
import platform

from effmod.versions import PINS, effmod_version, installed


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "effmod": effmod_version(),
            "versions": {p: installed(p) for p in PINS}}
