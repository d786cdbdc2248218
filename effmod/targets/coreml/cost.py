"""The cost report of a Core ML package (``effmod.cost``), read from its ML program. W8A8 programs are
QDQ (iOS17 quantize/dequantize around each op); Core ML fuses dequantize -> op -> quantize into an
integer op on the Neural Engine. Which compute unit runs each op is decided on the device (no
partitions known here)."""
from __future__ import annotations

import math
from pathlib import Path

from ...cost import CostReport, GraphNode, cost_report, matmul_inner_dim
from .mlprogram.program import load_program

_KINDS = {"quantize": "quantize", "dequantize": "dequantize"}


def _var(op, name: str) -> str | None:
    binding = op.inputs.get(name)
    return binding[0][1] if binding and binding[0][0] == "var" else None


def _macs(op, shapes: dict[str, tuple]) -> int:
    out = op.outputs[0][1].shape if op.outputs else None
    if not out or None in out or op.type not in ("conv", "linear", "matmul"):
        return 0
    n_out = math.prod(out)
    weight = shapes.get(_var(op, "weight") or "", ())
    if op.type == "conv":  # weight [out, in/groups, kh, kw]
        return n_out * math.prod(weight[1:]) if weight else 0
    if op.type == "linear":  # weight [out, in]
        return n_out * weight[-1] if weight else 0
    x, y = shapes.get(_var(op, "x") or "", ()), shapes.get(_var(op, "y") or "", ())
    return n_out * matmul_inner_dim(x, y, out) if len(x) >= 2 and len(y) >= 2 else 0


def artifact_cost(path: str | Path) -> CostReport:
    program = load_program(path)
    shapes = {name: tuple(info.shape or ()) for name, info in program.inputs.items()}
    live = set(program.inputs)
    nodes = []
    for op in program.ops:
        for name, info in op.outputs:
            shapes[name] = tuple(d or 0 for d in (info.shape or ()))
        acts = tuple(b[1] for bindings in op.inputs.values() for b in bindings if b[0] == "var" and b[1] in live)
        if not acts:  # const, constexpr_* (compressed weights) and what only they feed
            continue
        live.update(name for name, _ in op.outputs)
        nodes.append(GraphNode(op.type, _KINDS.get(op.type, "compute"), acts,
                               tuple(name for name, _ in op.outputs), macs=_macs(op, shapes)))
    return cost_report(nodes)
