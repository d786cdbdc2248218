"""Quantization accuracy sweeps (``effmod sweep``): every target × precision × calibration size ×
fallback, in the real runtimes, on a labelled set."""
from .grid import Combo, build_grid
from .runner import SweepOptions, run_sweep

__all__ = ["Combo", "SweepOptions", "build_grid", "run_sweep"]
