"""ONNX via ``torch.onnx.export(dynamo=True)``."""
from __future__ import annotations

from pathlib import Path

import torch

from ...errors import EffmodError
from ...manifest import Component
from ...versions import installed
from ..base import ExportJob, TargetResult, float_io, require_no_keep_float


def convert(job: ExportJob, out_path: Path) -> TargetResult:
    shapes, example = None, job.example
    if job.dynamic_batch:
        shapes = ({0: torch.export.Dim("batch", min=1, max=1024)},)
        example = job.example.repeat(2, 1, 1, 1)  # torch.export specialises a size-1 dim to a constant
    prog = torch.onnx.export(job.model, (example,), dynamo=True, input_names=["image"],
                             output_names=["logits"], dynamic_shapes=shapes, verbose=False)
    if prog is None:
        raise EffmodError("onnx: torch.onnx.export returned no program")
    quant = None
    if job.precision == "int8":
        import tempfile

        from .quantize import quantize_onnx

        require_no_keep_float(job, "onnx")
        with tempfile.TemporaryDirectory() as tmp:
            float_path = Path(tmp) / "float.onnx"
            prog.save(str(float_path))
            quant = quantize_onnx(float_path, out_path, job.calib)
    else:
        prog.save(str(out_path))
    inp, out = float_io(job, batch="batch" if job.dynamic_batch else 1)
    return TargetResult(
        converter=Component("torch.onnx (dynamo)", torch.__version__, {"onnxscript": installed("onnxscript")}),
        runtime=Component("onnxruntime", installed("onnxruntime")),
        input=inp,
        output=out,
        quantizer=quant,
    )
