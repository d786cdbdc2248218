"""Core ML runner: coremltools ``predict`` on macOS. On other platforms Core ML cannot execute an
ML program; ``CoreMLUnavailable`` says so (never a fake pass)."""
from __future__ import annotations

import numpy as np

from ..errors import EffmodError
from ..versions import coreml_predict_available
from .base import Runner


class CoreMLUnavailable(EffmodError):
    pass


class CoreMLRunner(Runner):
    runtime = "coreml"

    def __init__(self, path, manifest=None, threads: int | None = None, compute_units: str = "ALL"):
        super().__init__(path, manifest)
        if not coreml_predict_available():
            raise CoreMLUnavailable("Core ML: not run on this platform",
                                    hint="Core ML prediction needs macOS")
        import coremltools as ct

        self.model = ct.models.MLModel(str(self.path), compute_units=getattr(ct.ComputeUnit, compute_units))
        spec = self.model.get_spec()
        self.input_name = spec.description.input[0].name
        self.output_name = spec.description.output[0].name
        self.version = ct.__version__
        self.engine = "Core ML (macOS)"

    def _run_one(self, x: np.ndarray) -> np.ndarray:
        out = self.model.predict({self.input_name: x})[self.output_name]
        return np.asarray(out, np.float32)
