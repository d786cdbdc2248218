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


def emit_table(title: str, columns: list[str], rows: list[list[str]], md_path, footer: str) -> None:
    """Print ``rows`` as a rich table and write the same table + ``footer`` as Markdown."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for cells in rows:
        table.add_row(*cells)
        md.append("| " + " | ".join(cells) + " |")
    Console().print(table)
    md_path.write_text("\n".join(md) + f"\n\n{footer}\n")
