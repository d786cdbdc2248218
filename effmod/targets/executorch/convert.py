"""ExecuTorch ``.pte`` lowered with the XNNPACK partitioner."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from ...manifest import Delegation
from ...manifest import Component
from ...versions import installed
from ..base import ExportJob, TargetResult, float_io
from .cost import lowered_cost
from .quantize import DEFAULT_KEEP_FLOAT


def lowered_delegation(edge) -> Delegation:
    """Count delegated vs non-delegated ops in a lowered edge program."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(edge.exported_program().graph_module)
    left = Counter()
    for op, row in info.delegation_by_operator.items():
        if row.non_delegated > 0:
            left[op] += row.non_delegated
    total = info.num_delegated_nodes + info.num_non_delegated_nodes
    return Delegation(delegate="XNNPACK", partitions=info.num_delegated_subgraphs, total_nodes=total,
                      delegated_nodes=info.num_delegated_nodes,
                      delegated_fraction=info.num_delegated_nodes / total if total else 0.0,
                      not_delegated_ops=dict(left))


def own_output_dequantize(program):
    """Give each graph output that is a dequantize also read inside the graph its own dequantize. PT2E
    routes every reader of a quantized value, the graph output included, through one dequantize; when that
    node is also a delegate-internal input, XNNPACK's channels-last pass rewires it and the program fails
    at run time ("Propagating input shapes failed"). Measured on effmod debug's INT8 program with block
    outputs exposed (ExecuTorch 1.4.1); a model whose only output is its logits has none to change."""
    graph = program.graph
    output = next(n for n in graph.nodes if n.op == "output")
    for value in list(output.args[0]):
        if "dequantize_per" in str(value.target) and len(value.users) > 1:
            with graph.inserting_after(value):
                own = graph.call_function(value.target, value.args, value.kwargs)
            own.meta = dict(value.meta)
            output.replace_input_with(value, own)
    program.graph_module.recompile()
    return program


def convert(job: ExportJob, out_path: Path) -> TargetResult:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    import torch

    program, quant, fake = job.exported_program(), None, None
    if job.precision == "int8":
        from ...quantize.pt2e import pt2e_int8

        fake, kept = pt2e_int8(job.model, job.example, job.calib, DEFAULT_KEEP_FLOAT, job.keep_float)
        program = own_output_dequantize(torch.export.export(fake, (job.example,)))
        quant = {"tool": "PT2E (torchao) + XNNPACKQuantizer", "scheme": "INT8 symmetric, per-channel weights, "
                 "per-tensor activations (histogram observer)", **kept}
    edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
    deleg = lowered_delegation(edge)
    cost = lowered_cost(edge, deleg)
    out_path.write_bytes(edge.to_executorch().buffer)
    inp, out = float_io(job)
    return TargetResult(
        converter=Component("executorch.exir", installed("executorch")),
        runtime=Component("executorch", installed("executorch")),
        input=inp,
        output=out,
        delegation=deleg,
        cost=cost,
        quantizer=quant,
        fake_quant=fake,
        fake_quant_desc="PyTorch fake-quantized model (PT2E)" if fake is not None else None,
    )
