"""Command line: the parser is built from ``effmod.commands.COMMANDS`` (each command declares its
arguments and its run); this module only dispatches and turns errors into one line.

Errors print as one line (plus a table where one helps) and exit non-zero; ``--debug`` shows the
traceback and the converters' own output instead.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings

from rich.markup import escape

from .commands import COMMANDS
from .commands.base import check_numbers, debug_option
from .console import make_console
from .errors import EffmodError, first_line
from . import interrupts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="effmod", description="EfficientMod from checkpoint to phone.")
    debug_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help)
        command.add_arguments(p)
        debug_option(p)
    return parser


def _interrupted(console, signum: int) -> int:
    # The run is over: a repeated Ctrl-C must not turn the exit into a crash.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    what = interrupts.message() or "nothing half-written was left at the output paths"
    console.print(f"[red]{word}[/]: {escape(what)}", soft_wrap=True)
    return 128 + signum


def _exit_now(code: int) -> None:
    """Exit with ``code`` at once. After an interrupt CPython may otherwise kill itself with SIGINT at
    shutdown (exit -2, seen in 1 of 125 signal tests): a KeyboardInterrupt that landed inside a library's
    nested PyRun_String (pybind11's py::exec) sets the interpreter's 'unhandled KeyboardInterrupt' flag,
    which Py_RunMain honours after our exit code. Every cleanup has run by now (finally blocks)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None, program: bool | None = None) -> int:
    """``program``: this call is the process's entry point (default: when ``argv`` is None), so an
    interrupted run may end the process itself with its exit code."""
    program = argv is None if program is None else program
    rc = _run(argv)
    if program and interrupts.received() is not None:
        _exit_now(rc)
    return rc


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    console = make_console()
    debug = args.debug
    if not debug:
        warnings.filterwarnings("ignore")
    interrupts.reset()
    interrupts.install()
    command = next(c for c in COMMANDS if c.name == args.command)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for a command's "resume with" line
    try:
        check_numbers(args)
        rc = command.run(args, console)
    except (KeyboardInterrupt, interrupts.Interrupted):
        return _interrupted(console, interrupts.received() or signal.SIGINT)
    except SystemExit:
        if interrupts.received() is not None:
            return _interrupted(console, interrupts.received())
        raise
    except EffmodError as e:
        if interrupts.received() is not None:
            return _interrupted(console, interrupts.received())
        if debug:
            raise
        console.print(f"[red]error:[/] {escape(e.one_line())}", soft_wrap=True)  # paths and extras hold [ ]
        if e.details:
            console.print(e.details, markup=False, highlight=False, soft_wrap=True)
        return e.exit_code
    except Exception as e:  # noqa: BLE001 - last resort: still one line without --debug
        if interrupts.received() is not None:
            return _interrupted(console, interrupts.received())
        if debug:
            raise
        console.print(f"[red]error:[/] unexpected {escape(first_line(e))} (rerun with --debug for the traceback)",
                      soft_wrap=True)
        return 1
    # a library swallowed the interrupt and the command ran on: it placed nothing (interrupts.check), and
    # its exit still says it was interrupted
    return _interrupted(console, interrupts.received()) if interrupts.received() is not None else rc


def export_main(argv: list[str] | None = None) -> int:
    """``effmod-export ...`` is ``effmod export ...``."""
    program = argv is None
    argv = sys.argv[1:] if argv is None else argv
    return main(["export", *argv], program=program)


if __name__ == "__main__":
    sys.exit(main())
