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
