"""User-facing errors: one line saying what is wrong and how to fix it."""
from __future__ import annotations


class EffmodError(Exception):
    """An error the CLI prints as one line (plus an optional table) instead of a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, details: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details  # multi-line extra (e.g. a mismatch table), printed under the line

    def one_line(self) -> str:
        return self.message + (f" ({self.hint})" if self.hint else "")

    def __str__(self) -> str:
        out = self.one_line()
        return out + ("\n" + self.details if self.details else "")


FIRST_LINE_CHARS = 200  # what a one-line message quotes of a foreign exception, at most


def first_line(e: BaseException, limit: int = FIRST_LINE_CHARS) -> str:
    """``Type: first line of the message`` of a foreign exception, cut to ``limit`` characters: what a
    one-line error quotes of it (its traceback stays for --debug)."""
    text = str(e).strip()
    line = text.splitlines()[0] if text else ""
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return f"{type(e).__name__}: {line}" if line else type(e).__name__


def wrapped(e: BaseException, message: str, hint: str | None = None) -> EffmodError:
    """A foreign exception as an EffmodError: ``message (Type: first line)``. An EffmodError passes
    through unchanged, so a library's own clear line is never wrapped twice."""
    if isinstance(e, EffmodError):
        return e
    return EffmodError(f"{message} ({first_line(e)})", hint=hint)
