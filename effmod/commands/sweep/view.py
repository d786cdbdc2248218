"""The sweep's live view for people: rows and shards done (with ETA) and what each node is running."""
from __future__ import annotations

import time
from collections import Counter


class NullView:
    """For reporters without a console (tests, library use): shows nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def shard_done(self, node: str) -> None:
        """A shard finished on ``node``."""

    def shards_reused(self, n: int) -> None:
        """``n`` shards came from an earlier run (--resume)."""

    def row_done(self, line: str) -> None:
        """A row finished; ``line`` says how it went."""

    def refresh(self, running: dict[str, list[str]]) -> None:
        """What each node runs now."""


class SweepView(NullView):
    def __init__(self, console, rows: int, shards: int, rows_done: int = 0):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.console = console
        self.progress = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=console)
        self.rows = self.progress.add_task("rows", total=rows, completed=rows_done)
        self.shards = self.progress.add_task("shards", total=shards)
        self.per_node: Counter[str] = Counter()
        self.running: dict[str, list[str]] = {}
        self._live = None
        self._last = 0.0

    def _render(self):
        from rich.console import Group
        from rich.table import Table

        table = Table(box=None, show_header=True, header_style="dim", pad_edge=False)
        table.add_column("node")
        table.add_column("shards done", justify="right")
        table.add_column("running now")
        for node in sorted(set(self.per_node) | set(self.running)):
            names = self.running.get(node, [])
            table.add_row(node, str(self.per_node.get(node, 0)),
                          "; ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else ""))
        return Group(self.progress, table)

    def __enter__(self):
        from rich.live import Live

        self._live = Live(self._render(), console=self.console, refresh_per_second=2, transient=True)
        self._live.__enter__()
        return self

    def __exit__(self, *exc):
        self._live.__exit__(*exc)
        return False

    def shard_done(self, node: str) -> None:
        self.per_node[node] += 1
        self.progress.advance(self.shards)

    def shards_reused(self, n: int) -> None:
        if n:
            self.progress.advance(self.shards, n)

    def row_done(self, line: str) -> None:
        self.progress.advance(self.rows)
        self.console.print(line)

    def refresh(self, running: dict[str, list[str]]) -> None:
        self.running = running
        if time.monotonic() - self._last > 0.5:
            self._last = time.monotonic()
            self._live.update(self._render())
