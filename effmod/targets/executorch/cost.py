"""The cost report of a .pte (``effmod.cost``), read from the lowered edge program at export time: the
.pte keeps each XNNPACK partition as an opaque blob, but the lowered modules still hold the graph they
were made from. PT2E graphs are QDQ: XNNPACK fuses dequantize -> op -> quantize into an integer kernel."""
from __future__ import annotations

import math

from ...cost import CostReport, GraphNode, cost_report
from ...manifest import Delegation

_SKIP = ("getitem", "executorch_call_delegate", "alloc", "sym_size")


def _op_name(node) -> str:
    """``aten.convolution.default`` -> ``convolution``; ``getitem`` stays."""
    parts = getattr(node.target, "__name__", str(node.target)).split(".")
    return parts[-2] if len(parts) >= 3 else parts[0]


def _numel(node) -> int:
    val = node.meta.get("val")
    return math.prod(val.shape) if val is not None and hasattr(val, "shape") else 0


def _shape(node) -> tuple:
    val = node.meta.get("val") if hasattr(node, "meta") else None
    return tuple(val.shape) if val is not None and hasattr(val, "shape") else ()


def _macs(node) -> int:
    op = _op_name(node)
    if op == "convolution":  # weight [out, in/groups, kh, kw]
        return _numel(node) * math.prod(_shape(node.args[1])[1:])
    if op in ("linear", "mm", "bmm", "matmul"):
        return _numel(node) * (_shape(node.args[0])[-1] if _shape(node.args[0]) else 0)
    if op == "addmm":
        return _numel(node) * (_shape(node.args[1])[-1] if _shape(node.args[1]) else 0)
    return 0


def _kind(op: str) -> str:
    if op.startswith("quantize_per"):
        return "quantize"
    if op.startswith("dequantize_per"):
        return "dequantize"
    return "compute"


def _graph_nodes(program, prefix: str) -> list[GraphNode]:
    """The ops of one edge program; placeholders that are weights and whatever only they feed are constants."""
    sig = program.graph_signature
    user_inputs = set(sig.user_inputs)
    live: set[str] = set()
    out = []
    for node in program.graph.nodes:
        if node.op == "placeholder":
            if node.name in user_inputs:
                live.add(node.name)
            continue
        if node.op != "call_function" or _op_name(node) in _SKIP:
            if node.op == "call_function" and any(getattr(a, "name", None) in live for a in node.args):
                live.add(node.name)  # getitem of a live value (delegate outputs)
            continue
        acts = tuple(a.name for a in node.all_input_nodes if a.name in live)
        if not acts:
            continue
        live.add(node.name)
        out.append(GraphNode(_op_name(node), _kind(_op_name(node)), tuple(prefix + a for a in acts),
                             (prefix + node.name,), macs=_macs(node)))
    return out


def lowered_cost(edge, delegation: Delegation) -> CostReport:
    """Cost of the lowered program: each partition's own graph plus the ops left outside the delegate.
    Tensors are not joined across a partition's border (each partition plans its own), so an island cut
    by a partition boundary counts once per side, as the runtime runs it."""
    from executorch.exir.lowered_backend_module import LoweredBackendModule

    top = edge.exported_program()
    nodes = _graph_nodes(top, "")
    for name, module in top.graph_module.named_children():
        if isinstance(module, LoweredBackendModule):
            nodes += _graph_nodes(module.original_module, f"{name}/")
    outside = {op: n for op, n in delegation.not_delegated_ops.items() if op != "getitem"}  # tuple access, no op
    return cost_report(nodes, partitions=delegation.partitions, outside_delegate=outside,
                       read_from="lowered program")
