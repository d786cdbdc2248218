"""What every target receives and returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class ExportJob:
    model: torch.nn.Module             # eval-mode module to convert (deploy form or original)
    example: torch.Tensor              # [1, 3, H, W] float32 example input
    precision: str                     # "fp32" | "fp16"
    data_config: dict
    model_name: str
    image_input: bool = False          # Core ML: bake preprocessing into an ImageType input
    dynamic_batch: bool = False        # ONNX: dynamic batch dim
    labels: list[str] | None = None
    calib: np.ndarray | None = None    # INT8: preprocessed calibration images [N, 3, H, W]
    keep_float: tuple[str, ...] = ()   # INT8: --keep-float patterns added to the target's defaults
    io: str = "float"                  # TFLite INT8: "int8" makes the graph input/output integer

    def exported_program(self) -> torch.export.ExportedProgram:
        with torch.no_grad():
            return torch.export.export(self.model, (self.example,))


@dataclass
class TargetResult:
    converter: dict                    # {"name": ..., "version": ...}
    runtime: dict                      # {"name": ..., "version": ...}
    input: dict                        # {name, shape, layout, dtype}
    output: dict
    delegation: dict | None = None
    notes: list[str] = field(default_factory=list)
    quantization: dict | None = None   # INT8 recipe, for the manifest
    fake_quant: torch.nn.Module | None = None  # PT2E fake-quantized model: INT8 parity reference


def float_io(job: ExportJob, batch: int | str = 1, input_dtype: str = "float32") -> tuple[dict, dict]:
    """Manifest ``input``/``output`` entries of a float NCHW image classifier artifact."""
    with torch.no_grad():
        n_cls = int(job.model(job.example).shape[1])
    inp = {"name": "image", "shape": [batch, *job.example.shape[1:]], "layout": "NCHW", "dtype": input_dtype}
    return inp, {"name": "logits", "shape": [batch, n_cls], "dtype": "float32"}


def require_no_keep_float(job: ExportJob, target: str) -> None:
    from ...errors import EffmodError

    if job.keep_float:
        raise EffmodError(f"--keep-float is not available for {target} INT8",
                          hint=f"{target} uses an op-type recipe (see its manifest); --keep-float works for executorch and coreml")
