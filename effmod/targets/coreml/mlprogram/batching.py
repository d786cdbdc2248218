"""Can a program declared for batch B run k·B images in one pass?

Yes when the batch stays the outermost (slowest-varying) factor of dim 0 in every tensor: then only
``reshape`` targets need their first dim scaled by k (a [8, 32, 16] that folds batch 1 with 8 heads
becomes [8k, 32, 16]) and every other op computes per image as before. This module proves that from
the program, op by op, and names the first op that breaks it; anything it does not know is refused
(the executor then runs image by image). The runner also compares the first batched images with
single runs once, so a wrong proof can only cost speed, never accuracy."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .program import Program

# Ops that compute each dim-0 slice from the same slice of their inputs (constants broadcast from a
# leading 1, or fail loudly on a mismatch).
PER_SLICE = {
    "add", "sub", "mul", "real_div", "floor_div", "mod", "maximum", "minimum", "pow", "equal", "not_equal",
    "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "abs", "ceil", "floor", "round", "sign", "sqrt", "rsqrt", "exp", "exp2", "log", "sin", "cos", "tanh",
    "sigmoid", "relu", "relu6", "leaky_relu", "elu", "erf", "square", "silu", "identity", "softsign", "softplus",
    "sigmoid_hard", "threshold", "clip", "gelu", "inverse", "select", "cast", "conv", "linear", "matmul",
    "avg_pool", "max_pool", "l2_pool", "batch_norm", "instance_norm", "upsample_nearest_neighbor",
}
# Ops with an axis argument: fine when the axis is not dim 0.
AXIS_OPS = {"softmax": "axis", "reduce_mean": "axes", "reduce_sum": "axes", "reduce_max": "axes",
            "reduce_min": "axes", "reduce_prod": "axes", "reduce_sum_square": "axes", "reduce_l1_norm": "axes",
            "reduce_l2_norm": "axes", "reduce_log_sum": "axes", "reduce_log_sum_exp": "axes",
            "layer_norm": "axes", "quantize": "axis", "dequantize": "axis"}


@dataclass(frozen=True)
class Batching:
    ok: bool
    declared: int          # the program's batch (dim 0 of its input)
    reason: str = ""       # why not, naming the op


def _const_value(op_input, consts):
    kind, ref = op_input[0]
    if kind == "value":
        return ref
    return consts.get(ref)


def analyse(program: Program) -> Batching:
    (name, info), = program.inputs.items() if len(program.inputs) == 1 else ((None, None),)
    if info is None:
        return Batching(False, 1, f"{len(program.inputs)} inputs (batching handles one)")
    if not info.shape or any(d is None for d in info.shape):
        return Batching(False, 1, "the input shape is not fixed")
    declared = int(info.shape[0])
    consts = {op.name: op.attrs.get("val") for op in program.ops if op.type == "const"}
    ranks = {n: len(i.shape) for n, i in program.inputs.items() if i.shape is not None}
    for op in program.ops:
        for out_name, out_info in op.outputs:
            if out_info.shape is not None:
                ranks[out_name] = len(out_info.shape)
    for op in program.ops:
        if op.type == "const" or op.type.startswith("constexpr_"):
            continue
        if op.type in PER_SLICE or op.type == "reshape":
            continue
        if op.type == "transpose":
            perm = _const_value(op.inputs["perm"], consts)
            if perm is None or int(np.asarray(perm).reshape(-1)[0]) != 0:
                return Batching(False, declared, f"{op.where()} moves dim 0")
            continue
        if op.type in AXIS_OPS:
            arg = AXIS_OPS[op.type]
            x = op.inputs.get("x") or op.inputs.get("input")
            if x and x[0][0] == "var" and x[0][1] in consts:
                continue  # a constant's own axis (per-channel weights)
            if arg not in op.inputs:
                if op.type.startswith("reduce_") or op.type == "layer_norm":
                    return Batching(False, declared, f"{op.where()} reduces over every dim")
                continue  # per-tensor quantize / softmax default axis -1
            value = _const_value(op.inputs[arg], consts)
            rank = ranks.get(x[0][1]) if x and x[0][0] == "var" else None
            if value is None or rank is None:
                return Batching(False, declared, f"{op.where()} has an axis effmod cannot read")
            axes = [int(a) + rank if int(a) < 0 else int(a) for a in np.asarray(value).reshape(-1)]
            if 0 in axes:
                return Batching(False, declared, f"{op.where()} works along dim 0")
            continue
        return Batching(False, declared, f"{op.where()} ({op.type}) is not known to keep images apart")
    return Batching(True, declared)
