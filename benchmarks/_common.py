"""Machine and version facts recorded with every benchmark result."""
from __future__ import annotations

from effmod.machine import machine_info  # noqa: F401 - re-exported for the scripts


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
