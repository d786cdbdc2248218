"""Terminal output: rich console on the real stdout, the one ``Reporter`` interface every command
reports progress through, and capture of converter noise.

Converters (coremltools, litert-torch, torch.onnx, ExecuTorch) print progress bars and native
log lines straight to file descriptors 1 and 2. ``captured_output`` sends those to a log file so
the user sees effmod's stages and table; with ``--debug`` nothing is captured.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from typing import Callable, ContextManager, Protocol

from rich.console import Console


def make_console() -> Console:
    # A private duplicate of fd 1, so redirecting fd 1 during conversion leaves our output alone.
    try:
        stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    except (AttributeError, OSError, ValueError):
        stream = sys.stdout
    # Pipes and CI logs get a wide fixed width so tables are not folded to 80 columns.
    return Console(file=stream, highlight=False, width=None if stream.isatty() else 150)


@contextlib.contextmanager
def captured_output(enabled: bool = True):
    """Redirect fds 1/2 to a temp file; yields a function returning the captured text."""
    if not enabled:
        yield lambda: ""
        return
    sys.stdout.flush()
    sys.stderr.flush()
    log = tempfile.TemporaryFile(mode="w+b")
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)

    def read() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        yield read
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


# ``update(done, total=None, status=None)``: progress of a counted stage, with an optional status text.
Update = Callable[..., None]


class Reporter(Protocol):
    """How long work reports to a person. Export, quantize-report, train and sweep all take one;
    ``ConsoleReporter`` draws it, ``NullReporter`` collects warnings silently (library use, workers)."""

    warnings: list[str]

    def stage(self, name: str) -> ContextManager[None]: ...

    def progress(self, name: str, total: int | None, keep: bool = True) -> ContextManager[Update]: ...

    def note(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def line(self, text: str) -> None: ...

    def artifact_done(self, manifest) -> None: ...


class NullReporter:
    """Prints nothing; keeps the warnings (a sweep stores them in its rows)."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def stage(self, name: str):
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def progress(self, name: str, total: int | None, keep: bool = True):
        yield lambda done, total_=None, status=None: None

    def note(self, text: str) -> None:
        pass

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def line(self, text: str) -> None:
        pass

    def artifact_done(self, manifest) -> None:
        pass


class ConsoleReporter:
    """Shows each stage with a spinner and its duration, counted stages as bars; collects warnings.
    Converter output is captured while a stage runs unless ``debug``."""

    def __init__(self, console: Console, debug: bool = False):
        self.console = console
        self.debug = debug
        self.warnings: list[str] = []

    @contextlib.contextmanager
    def stage(self, name: str):
        t0 = time.perf_counter()
        with self.console.status(f"{name} ..."), captured_output(not self.debug):
            yield
        self.console.print(f"[green]✓[/] {name} [dim]({time.perf_counter() - t0:.1f}s)[/]")

    @contextlib.contextmanager
    def progress(self, name: str, total: int | None, keep: bool = True):
        """A bar for a counted stage; yields ``update(done, total=None, status=None)``. ``keep``: print a
        ✓ line with the duration when it ends."""
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        t0 = time.perf_counter()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), TextColumn("{task.fields[status]}"), console=self.console,
                      transient=True) as bar, captured_output(not self.debug):
            task = bar.add_task(name, total=total, status="")

            def update(done, total_=None, status=None):
                bar.update(task, completed=done, total=total_ or total,
                           **({"status": status} if status is not None else {}))
            yield update
        if keep:
            self.console.print(f"[green]✓[/] {name} [dim]({time.perf_counter() - t0:.1f}s)[/]")

    def note(self, text: str) -> None:
        self.console.print(f"[cyan]note:[/] {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.console.print(f"[yellow]warning:[/] {text}")

    def line(self, text: str) -> None:
        self.console.print(text)

    def artifact_done(self, manifest) -> None:
        parity = manifest.parity
        colour = {"passed": "green", "failed": "red"}.get(parity.status, "yellow")
        self.console.print(f"  → {manifest.path}  parity [{colour}]{parity.status}[/]")
