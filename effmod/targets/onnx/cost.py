"""The cost report of a .onnx (``effmod.cost``), read from the graph with ONNX shape inference. INT8
graphs are QDQ: ONNX Runtime fuses DequantizeLinear -> op -> QuantizeLinear into an integer kernel
(QLinearConv, ...), which is what ``cost_report`` counts as INT8. ORT runs the whole graph on its CPU
provider: no delegate, no partitions."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...cost import CostReport, GraphNode, cost_report

_KINDS = {"QuantizeLinear": "quantize", "DequantizeLinear": "dequantize"}


def _shapes(model) -> dict[str, tuple[int, ...]]:
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    shapes = {init.name: tuple(init.dims) for init in g.initializer}
    for v in [*g.input, *g.output, *g.value_info]:
        dims = v.type.tensor_type.shape.dim
        shapes[v.name] = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in dims)  # dynamic batch: 1
    return shapes


def _macs(node, shapes: dict, weight_of: dict[str, str]) -> int:
    out = shapes.get(node.output[0])
    if out is None or node.op_type not in ("Conv", "MatMul", "Gemm"):
        return 0
    n_out = int(np.prod(out))
    if node.op_type == "Conv":  # weight [out, in/groups, kh, kw]
        return n_out * int(np.prod(shapes.get(weight_of.get(node.input[1], node.input[1]), (0,))[1:]))
    a = shapes.get(node.input[0], ())
    transposed = node.op_type == "Gemm" and any(at.name == "transA" and at.i for at in node.attribute)
    return n_out * int(a[-2] if transposed else a[-1]) if a else 0


def artifact_cost(path: str | Path) -> CostReport:
    import onnx

    model = onnx.load(str(path))
    g = model.graph
    shapes = _shapes(model)
    constant = {i.name for i in g.initializer} | {o for n in g.node if n.op_type == "Constant" for o in n.output}
    weight_of: dict[str, str] = {}  # a dequantized weight -> the initializer it came from
    nodes = []
    for node in g.node:
        acts = tuple(t for t in node.input if t and t not in constant)
        if not acts:  # constants, and DequantizeLinear of a weight: folded into the kernel
            constant.update(node.output)
            if node.input:
                weight_of.update({o: node.input[0] for o in node.output})
            continue
        nodes.append(GraphNode(node.op_type, _KINDS.get(node.op_type, "compute"), acts, tuple(node.output),
                               macs=_macs(node, shapes, weight_of)))
    return cost_report(nodes)
