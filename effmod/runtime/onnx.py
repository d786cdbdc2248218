"""onnxruntime runner (CPU execution provider)."""
from __future__ import annotations

import numpy as np

from .base import Runner


class OnnxRunner(Runner):
    runtime = "onnxruntime"

    def __init__(self, path, manifest=None, threads: int | None = None):
        super().__init__(path, manifest)
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        self.version = ort.__version__
        self.engine = f"onnxruntime {ort.__version__} CPUExecutionProvider"

    def _run_one(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: self._to_layout(x)})[0].astype(np.float32)
