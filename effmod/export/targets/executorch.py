"""ExecuTorch ``.pte`` lowered with the XNNPACK partitioner."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from ...versions import installed
from ..reparameterize import DeployOptions
from .base import ExportJob, TargetResult, float_io

NAME = "executorch"
SUFFIX = ".pte"
PRECISIONS = ("fp32", "int8")
# conv channel-mean: 47 -> 1 XNNPACK partitions; plus 7×7 dw split into ≤25-tap parts: 19.6 -> 10.0 ms with
# row bands (xxs, 2 threads), then 0.95× (fp32) / 0.95× (int8) that time with the dilated split; the context's
# repeat folded into g: 0.97× (fp32) / 0.89× (int8).
DEPLOY_OPTIONS = DeployOptions(channel_mean="conv", split_large_dw=True, tile_context=True)


def lowered_delegation(edge) -> dict:
    """Count delegated vs non-delegated ops in a lowered edge program."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(edge.exported_program().graph_module)
    left = Counter()
    for op, row in info.delegation_by_operator.items():
        if row.non_delegated > 0:
            left[op] += row.non_delegated
    total = info.num_delegated_nodes + info.num_non_delegated_nodes
    return {
        "delegate": "XNNPACK",
        "partitions": info.num_delegated_subgraphs,
        "total_nodes": total,
        "delegated_nodes": info.num_delegated_nodes,
        "delegated_fraction": info.num_delegated_nodes / total if total else 0.0,
        "not_delegated_ops": dict(left),
    }


def convert(job: ExportJob, out_path: Path) -> TargetResult:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    import torch

    program, quant, fake = job.exported_program(), None, None
    if job.precision == "int8":
        from ...quantize.executorch import DEFAULT_KEEP_FLOAT
        from ...quantize.pt2e import pt2e_int8

        fake, kept = pt2e_int8(job.model, job.example, job.calib, DEFAULT_KEEP_FLOAT, job.keep_float)
        program = torch.export.export(fake, (job.example,))
        quant = {"tool": "PT2E (torchao) + XNNPACKQuantizer", "scheme": "INT8 symmetric, per-channel weights, "
                 "per-tensor activations (histogram observer)", **kept}
    edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
    deleg = lowered_delegation(edge)
    out_path.write_bytes(edge.to_executorch().buffer)
    inp, out = float_io(job)
    return TargetResult(
        converter={"name": "executorch.exir", "version": installed("executorch")},
        runtime={"name": "executorch", "version": installed("executorch")},
        input=inp,
        output=out,
        delegation=deleg,
        quantization=quant,
        fake_quant=fake,
    )
