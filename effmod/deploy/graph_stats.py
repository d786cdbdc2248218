"""Op counts of ``torch.export`` graphs, to show what the deploy form removed."""
from __future__ import annotations

from collections import Counter

import torch


def op_counts(ep: torch.export.ExportedProgram) -> Counter:
    """Count call_function nodes by op name (``aten.permute.default`` -> ``permute``)."""
    counts: Counter = Counter()
    for node in ep.graph.nodes:
        if node.op == "call_function":
            name = getattr(node.target, "__name__", str(node.target)).split(".")[0]
            counts[name] += 1
    return counts


def summarize(counts: Counter) -> dict[str, int]:
    """Merge aliases into the families the README reports."""
    fam = {
        "permute/transpose": counts["permute"] + counts["transpose"],
        "repeat": counts["repeat"],
        "layer_norm": counts["layer_norm"] + counts["native_layer_norm"],
        "batch_norm": counts["batch_norm"] + counts["_native_batch_norm_legit_no_training"],
        "conv": counts["conv2d"] + counts["convolution"],
        "linear": counts["linear"],
        "total": sum(counts.values()),
    }
    return fam


def export_op_summary(model: torch.nn.Module, img_size: int = 224) -> dict[str, int]:
    x = torch.randn(1, 3, img_size, img_size)
    with torch.no_grad():
        ep = torch.export.export(model.eval(), (x,))
    return summarize(op_counts(ep))


def count_macs(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass (convs, linears, matmuls), via torch's FLOP counter."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() // 2
