"""ExecuTorch runner (``executorch.runtime``; XNNPACK kernels are built into the pybindings)."""
from __future__ import annotations

import numpy as np

from ..base import Runner


class ExecuTorchRunner(Runner):
    runtime = "executorch"

    def __init__(self, path, input_spec=None, threads: int | None = None):
        super().__init__(path, input_spec)
        import torch
        from executorch.runtime import Runtime

        from ...versions import installed

        # XNNPACK sizes its thread pool from the process; threads is honoured via torch's setting.
        if threads:
            torch.set_num_threads(threads)
        self.program = Runtime.get().load_program(str(self.path))
        self.method = self.program.load_method("forward")
        meta = self.method.metadata
        shape = tuple(meta.input_tensor_meta(0).sizes())
        self.batch = int(shape[0])
        self.version = installed("executorch")
        self.engine = f"executorch {self.version} (XNNPACK)"

    def _run_one(self, x: np.ndarray) -> np.ndarray:
        import torch

        out = self.method.execute([torch.from_numpy(self._to_layout(x))])[0]
        return out.float().numpy()
