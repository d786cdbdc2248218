"""The cost report of a .tflite (``effmod.cost``), read from the flatbuffer through the interpreter's op
listing: tensor dtypes say which ops run in INT8; the default XNNPACK delegate's cut gives partitions."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...cost import CostReport, GraphNode, cost_report, matmul_inner_dim
from .graph import delegation

_INTEGER = (np.int8, np.uint8, np.int16)


def _macs(op: str, ins: list[dict], out: dict) -> int:
    """MACs of one conv/FC/matmul from its tensors' shapes (TFLite layouts: conv weights OHWI,
    depthwise 1HWO, fully connected [out, in])."""
    n_out = int(np.prod(out["shape"]))
    if op == "CONV_2D":
        return n_out * int(np.prod(ins[1]["shape"][1:]))
    if op == "DEPTHWISE_CONV_2D":
        return n_out * int(np.prod(ins[1]["shape"][1:3]))
    if op == "FULLY_CONNECTED":
        return n_out * int(ins[1]["shape"][-1])
    if op == "BATCH_MATMUL":
        return n_out * matmul_inner_dim(ins[0]["shape"], ins[1]["shape"], out["shape"])
    return 0


def _kind(op: str, in_dtype, out_dtype) -> str:
    if op == "QUANTIZE" and in_dtype not in _INTEGER:
        return "quantize"
    if op == "DEQUANTIZE" and out_dtype not in _INTEGER:
        return "dequantize"
    return "compute"


def artifact_cost(path: str | Path) -> CostReport:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    tensors = {t["index"]: t for t in it.get_tensor_details()}
    ops = it._get_ops_details()  # noqa: SLF001 - the op listing, not exposed otherwise
    produced = {int(t) for op in ops for t in op["outputs"]}
    live = produced | {d["index"] for d in it.get_input_details()}  # everything else is a constant
    nodes = []
    for op in ops:
        name = op["op_name"]
        ins = [int(t) for t in op["inputs"] if t >= 0]
        outs = [int(t) for t in op["outputs"]]
        acts = tuple(str(t) for t in ins if t in live)
        if not acts:  # a constant's dequantize (float16/int8 weights): folded once, not run per call
            continue
        in_dtype, out_dtype = tensors[int(acts[0])]["dtype"], tensors[outs[0]]["dtype"]
        kind = _kind(name, in_dtype, out_dtype)
        nodes.append(GraphNode(name, kind, acts, tuple(str(t) for t in outs),
                               macs=_macs(name, [tensors[t] for t in ins], tensors[outs[0]]),
                               int8=kind == "compute" and in_dtype in _INTEGER))
    deleg = delegation(path)
    return cost_report(nodes, partitions=deleg.partitions, outside_delegate=deleg.not_delegated_ops)
