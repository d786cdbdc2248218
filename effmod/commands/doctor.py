"""`effmod doctor`: installed versions vs pins, per-target converter/runtime imports, Core ML predict."""
from __future__ import annotations

import importlib
import platform
import warnings

from rich.console import Console
from rich.table import Table

from ..errors import first_line
from .base import Command
from ..versions import PINS, coreml_predict_available, effmod_version, installed, pin_ok


def _try_import(module: str) -> str | None:
    """None when it imports, else the first line of the error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module(module)
        return None
    except Exception as e:  # noqa: BLE001 - any import failure is a finding to report
        return first_line(e)


def run_doctor(console: Console) -> int:
    from ..targets import TARGETS

    ok = True
    table = Table(title=f"effmod {effmod_version()} on {platform.system()} {platform.machine()}, "
                        f"Python {platform.python_version()}")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail")
    for pkg, want in PINS.items():
        have = installed(pkg)
        good = pin_ok(pkg, have)
        ok &= good
        status = "[green]ok[/]" if good else ("[red]missing[/]" if have is None else "[red]wrong version[/]")
        table.add_row(pkg, status, f"installed {have or '-'}, pinned {want}{'.x' if want.count('.') == 1 else ''}")
    for target in TARGETS:
        for conv in target.converter_modules:
            err = _try_import(conv)
            table.add_row(f"{target.name} converter", "[green]ok[/]" if err is None else "[red]fails[/]", err or conv)
            ok &= err is None
        if target.runtime_module:
            err = _try_import(target.runtime_module)
            table.add_row(f"{target.name} runtime", "[green]ok[/]" if err is None else "[red]fails[/]",
                          err or target.runtime_module)
            ok &= err is None
    if coreml_predict_available():
        table.add_row("coreml runtime", "[green]ok[/]", "Core ML predict (macOS)")
    else:
        table.add_row("coreml runtime", "[yellow]not on this platform[/]",
                      "Core ML predict needs macOS; Linux parity checks need the effmod ML-program executor")
    _cpu_row(table)
    _arm64_rows(table, TARGETS)
    console.print(table)
    console.print("[green]all pinned packages present; every target imports[/]" if ok else
                  "[red]problems found[/]: reinstall with  pip install -e \".[all,dev]\"")
    return 0 if ok else 1


def _cpu_row(table: Table) -> None:
    """The CPU's kernel flags: they decide which INT8 kernels the x86 runtimes run here (docs/parity.md)."""
    from ..machine import cpu_model, kernel_flags, u8s8_saturates

    detail = f"{cpu_model()}: {' '.join(kernel_flags()) or 'no AVX2'}"
    if u8s8_saturates():
        table.add_row("host CPU", "[yellow]no VNNI[/]", detail + "; onnxruntime's default INT8 kernels saturate "
                      "here, effmod runs its exact ones (session.x64quantprecision=1)")
    else:
        table.add_row("host CPU", "[green]ok[/]", detail)


def _arm64_rows(table: Table, targets) -> None:
    """The ARM toolchain (--arch arm64): what is ready, and what `effmod setup arm64` would fetch. Not a
    failure when absent: it is fetched on first use."""
    from ..emulation import cache_dir, status

    packages = tuple(t.arm64.package for t in targets if t.arm64.package)
    for part, state in status(packages).items():
        colour = "green" if state == "ready" else "yellow"
        table.add_row(f"arm64 {part}", f"[{colour}]{'ready' if state == 'ready' else 'not set up'}[/]",
                      state if state != "ready" else str(cache_dir()))


COMMAND = Command("doctor", "check installed versions and which targets work here", lambda p: None,
                  lambda args, console: run_doctor(console))
