"""The sweep grid: which (target, precision, calibration size, fallback) combinations exist, and the
hash that names each one's cached export."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from ...errors import EffmodError
from ...precision import Precision
from ...targets import TARGET_NAMES, by_name

FALLBACKS = ("none", "auto")


@dataclass(frozen=True)
class Combo:
    target: str
    precision: Precision
    calib_size: int | None = None      # int8 only
    fallback: str = "none"             # int8 on PT2E targets only

    @property
    def label(self) -> str:
        parts = [self.target, self.precision]
        if self.calib_size is not None:
            parts.append(f"calib {self.calib_size}")
        if self.fallback != "none":
            parts.append(f"fallback {self.fallback}")
        return " · ".join(parts)

    def key(self, context: dict) -> str:
        """Stable hash of this combination plus everything that changes its export (model, weights
        file hash, input size, calibration folder, seed)."""
        blob = json.dumps({"combo": asdict(self), **context}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build_grid(targets: list[str], precisions: list[str], calib_sizes: list[int], fallbacks: list[str]) \
        -> tuple[list[Combo], list[str]]:
    """All runnable combinations, and notes on the asked-for ones that do not exist."""
    unknown = [t for t in targets if t not in TARGET_NAMES]
    if unknown:
        raise EffmodError(f"unknown target {', '.join(unknown)}", hint="choose from " + ", ".join(TARGET_NAMES))
    bad_fb = [f for f in fallbacks if f not in FALLBACKS]
    if bad_fb:
        raise EffmodError(f"unknown --fallback {', '.join(bad_fb)}", hint="use none, auto or none,auto")
    if any(s < 1 for s in calib_sizes):
        raise EffmodError("--calib-sizes must be positive integers", hint="e.g. --calib-sizes 32,256")
    combos, notes = [], []
    for t in targets:
        target = by_name(t)
        supported = target.precisions
        for p in precisions:
            if p not in supported:
                notes.append(f"{t} has no {p} (it exports {', '.join(supported)})")
                continue
            if p != "int8":
                combos.append(Combo(t, p))
                continue
            for size in calib_sizes:
                for fb in fallbacks:
                    # Auto-fallback needs per-module float islands, which only the PT2E recipes have.
                    if fb == "auto" and not target.has_float_islands:
                        if size == calib_sizes[0]:
                            notes.append(f"{t}: no auto-fallback (its INT8 recipe has no per-block float islands)")
                        continue
                    combos.append(Combo(t, p, size, fb))
    if not combos:
        raise EffmodError("the sweep grid is empty", hint="check --targets and --precisions: " + "; ".join(notes))
    return combos, notes
