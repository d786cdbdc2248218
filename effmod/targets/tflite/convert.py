"""TFLite via litert-torch; delegation measured with the default XNNPACK delegate."""
from __future__ import annotations

import re
from pathlib import Path

from ...errors import EffmodError
from ...manifest import Component
from ...versions import installed
from ..base import ExportJob, TargetResult, float_io, require_no_keep_float
from .graph import delegation


def convert(job: ExportJob, out_path: Path) -> TargetResult:
    import litert_torch

    quant = None
    if job.precision == "int8":
        import tempfile

        from .quantize import quantize_tflite

        require_no_keep_float(job, "tflite")
        with tempfile.TemporaryDirectory() as tmp:
            float_path = Path(tmp) / "float.tflite"
            litert_torch.convert(job.model, (job.example,)).export(str(float_path))
            quant = quantize_tflite(float_path, out_path, job.calib, io=job.io)
    else:
        litert_torch.convert(job.model, (job.example,)).export(str(out_path))
    try:
        deleg = delegation(out_path)
    except RuntimeError as e:
        if "failed to prepare" not in str(e):
            raise
        # Seen with the official graph and random weights: the repeat leaves FULLY_CONNECTED nodes on
        # 8-D tensors, which the default XNNPACK delegate refuses, so the interpreter cannot load at all.
        nodes = sorted(set(re.findall(r"failed to delegate (\w+) node", str(e))))
        raise EffmodError(f"tflite: the default XNNPACK delegate refuses this graph ({', '.join(nodes) or 'prepare failed'}); "
                          "the .tflite would not load with the standard interpreter",
                          hint="export the deploy form (drop --no-deploy-form), which XNNPACK takes whole") from e
    notes = []
    if deleg.delegated_fraction < 1.0:
        notes.append(f"XNNPACK takes {deleg.delegated_nodes}/{deleg.total_nodes} nodes; "
                     f"not delegated: {deleg.not_delegated_ops}")
    inp, out = float_io(job)
    if quant is not None and job.io == "int8":
        from .quantize import io_quantization

        for spec, q in zip((inp, out), io_quantization(out_path)):
            spec.dtype, spec.scale, spec.zero_point = q["dtype"], q.get("scale"), q.get("zero_point")
    return TargetResult(
        converter=Component("litert-torch", installed("litert-torch")),
        runtime=Component("ai_edge_litert", installed("ai-edge-litert")),
        input=inp,
        output=out,
        delegation=deleg,
        notes=notes,
        quantizer=quant,
    )
