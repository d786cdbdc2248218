"""What every target receives and returns."""
from __future__ import annotations

from dataclasses import dataclass, field

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
