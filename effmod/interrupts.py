"""Interrupts that cannot be lost.

Ctrl-C and SIGTERM unwind the stack (KeyboardInterrupt / SystemExit), so every build folder's cleanup
runs. But an exception can be swallowed on the way: raised inside a destructor, a callback or a
library's ``except BaseException``, it vanishes and the work runs on. So the handlers also *record* the
signal, every step that makes a result final (renaming an artifact into place, a sweep's shard or row)
calls ``check()`` first, and the CLI exits 130/143 when a signal was recorded, however the command
ended. An interrupted command never places a result."""
from __future__ import annotations

import signal
import threading

_received: list[int] = []
_message: list[str] = []


class Interrupted(BaseException):
    """Raised by ``check()`` after a recorded signal (a BaseException, like KeyboardInterrupt, so no
    ``except Exception`` swallows it)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum, frame):
    _received.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)  # SIGTERM unwinds like Ctrl-C, so every cleanup (finally) runs


def install() -> None:
    """Record SIGINT and SIGTERM (main thread only: Python delivers signals there)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)


def received() -> int | None:
    """The first signal recorded since ``install``, or None."""
    return _received[0] if _received else None


def check() -> None:
    """Call before making a result final: raises ``Interrupted`` if a signal was recorded."""
    if _received:
        raise Interrupted(_received[0])


def set_message(text: str) -> None:
    """What the CLI's one line says after an interrupt (default: nothing half-written was left)."""
    _message[:] = [text]


def message() -> str | None:
    return _message[0] if _message else None


def reset() -> None:
    _received.clear()
    _message.clear()
