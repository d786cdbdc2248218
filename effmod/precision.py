"""The one definition of what a precision is. Every stage passes a ``Precision``, never a free string."""
from __future__ import annotations

from typing import Literal, get_args

from .errors import EffmodError

Precision = Literal["fp32", "fp16", "int8", "int8-weights"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
# Post-training quantized precisions: they need calibration (int8) or change weights only (int8-weights).
QUANTIZED: tuple[Precision, ...] = ("int8", "int8-weights")


def parse_precision(value: str) -> Precision:
    if value not in PRECISIONS:
        raise EffmodError(f"unknown precision '{value}'", hint="choose from " + ", ".join(PRECISIONS))
    return value  # type: ignore[return-value]


def is_quantized(precision: Precision) -> bool:
    return precision in QUANTIZED
