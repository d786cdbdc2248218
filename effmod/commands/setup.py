"""``effmod setup arm64``: fetch the ARM toolchain once (QEMU 10 user-mode, an arm64 Python 3.11, the
aarch64 wheels of the pinned runtimes) into its cache, so ``--arch arm64`` runs need no network."""
from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from .base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["arm64"], help="arm64: the toolchain of --arch arm64 (docs/arm64.md)")


def run(args: argparse.Namespace, console: Console) -> int:
    import time

    from ..console import ConsoleReporter
    from ..emulation import cache_dir, ensure
    from ..targets import TARGETS

    packages = tuple(t.arm64.package for t in TARGETS if t.arm64.package)
    t0 = time.perf_counter()
    chain = ensure(packages, ConsoleReporter(console, debug=args.debug).stage)
    table = Table(title=f"ARM toolchain in {cache_dir()} ({time.perf_counter() - t0:.0f} s)")
    for col in ("part", "where", "MB"):
        table.add_column(col)
    parts = [(f"QEMU {chain.qemu_version} user-mode", chain.qemu.parent), ("arm64 Python 3.11", chain.rootfs)]
    parts += [(f"aarch64 {p}", chain.site(p)) for p in packages]
    for name, path in parts:
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        table.add_row(name, str(path), f"{size / 1e6:.0f}")
    console.print(table)
    for t in TARGETS:
        if t.arm64.worker is None:
            console.print(f"[yellow]{t.name}:[/] {t.arm64.unavailable}")
    return 0


COMMAND = Command("setup", "fetch the toolchain of --arch arm64 once (QEMU user-mode, arm64 Python, aarch64 runtimes)",
                  add_arguments, run)
