"""What the CLI runs: one module (or package) per command, each with its arguments, its run and its
output (``base.Command``). Commands sit above the libraries (``pipeline``, targets, quantize, deploy,
models) and never import each other; ``effmod.cli`` builds the parser from ``COMMANDS``."""
from __future__ import annotations

from . import bench, debug, doctor, export, models, package, quantize_report, setup, sweep, train, validate
from .base import Command

COMMANDS: tuple[Command, ...] = (export.COMMAND, validate.COMMAND, debug.COMMAND, bench.COMMAND,
                                 quantize_report.COMMAND, train.COMMAND, sweep.COMMAND, package.COMMAND,
                                 setup.COMMAND, doctor.COMMAND, models.COMMAND)

__all__ = ["COMMANDS", "Command"]
