"""ExecuTorch runner (``executorch.runtime``; XNNPACK kernels are built into the pybindings)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ...errors import EffmodError
from ..base import Runner


def check_pte(path: Path) -> None:
    """Refuse what is not a whole .pte before ExecuTorch sees it: its loader aborts the process (not an
    exception) on some garbage headers. A .pte starts with a flatbuffer root offset, the identifier
    "ETnn" and, when segments follow, an extended header "eh00" whose sizes give the file's length."""
    if not path.is_file():
        raise EffmodError(f"{path} is not a file, so not an ExecuTorch program", hint="pass the .pte file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(48)
    if len(head) < 8 or head[4:6] != b"ET" or not head[6:8].isdigit():
        raise EffmodError(f"{path} is not an ExecuTorch program (no ET identifier in its header)",
                          hint="re-export it with effmod export --target executorch")
    if head[8:12] == b"eh00" and len(head) >= 40:
        program_size, segment_offset, segment_size = struct.unpack_from("<QQQ", head, 16)
        if size < program_size or (segment_size and size < segment_offset + segment_size):
            raise EffmodError(f"{path} is truncated ({size} bytes; its header says "
                              f"{max(program_size, segment_offset + segment_size)})",
                              hint="re-export it with effmod export --target executorch")


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
        check_pte(self.path)
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

    def run_outputs(self, x: np.ndarray) -> list[np.ndarray]:
        import torch

        return [o.float().numpy() for o in self.method.execute([torch.from_numpy(self._to_layout(x))])]
