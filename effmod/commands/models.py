"""``effmod models``: the model names ``--model`` takes."""
from __future__ import annotations

from .base import Command


def _run(args, console) -> int:
    from ..models import list_models

    for name in list_models():
        console.print(name)
    return 0


COMMAND = Command("models", "list model names", lambda p: None, _run)
