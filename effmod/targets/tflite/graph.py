"""The node listing of a .tflite graph and how much of it the default XNNPACK delegate takes (used by
the converter for the manifest and by the INT8 recipe to pick ops; never by the runner)."""
from __future__ import annotations

from ...manifest import Delegation


def graph_nodes(interpreter) -> list[tuple[str, list[int], list[int]]]:
    """(op name, input tensor ids, output tensor ids) of every node, in execution order. DELEGATE
    nodes appear as such when the interpreter was built with a delegate and tensors were allocated."""
    raw = interpreter._interpreter  # noqa: SLF001 - node-level API, not exposed otherwise
    return [(raw.NodeName(i), list(raw.NodeInputs(i)), list(raw.NodeOutputs(i))) for i in range(raw.NumNodes())]


def delegation(path) -> Delegation:
    """How much of a .tflite graph the default XNNPACK delegate takes.

    The interpreter exposes nodes but not its execution plan, so this walks back from the graph
    outputs choosing the DELEGATE node as producer wherever it produces a tensor: every original
    node reached that way still runs on the TFLite CPU kernels."""
    from collections import Counter

    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    raw = it._interpreter  # noqa: SLF001 - graph outputs, not exposed otherwise
    nodes = graph_nodes(it)
    delegates = [i for i, n in enumerate(nodes) if n[0] == "DELEGATE"]
    original = [i for i, n in enumerate(nodes) if n[0] != "DELEGATE"]
    producer: dict[int, int] = {}
    for i in original:
        for t in nodes[i][2]:
            producer[t] = i
    for i in delegates:  # delegate outputs win: they are what the execution plan produces
        for t in nodes[i][2]:
            producer[t] = i
    outside, stack, seen = set(), [t for t in raw.OutputIndices()], set()
    while stack:
        t = stack.pop()
        if t in seen or t not in producer:
            continue
        seen.add(t)
        n = producer[t]
        if n not in delegates:
            outside.add(n)
        stack.extend(x for x in nodes[n][1] if x >= 0)
    total = len(original)
    not_delegated = Counter(nodes[i][0] for i in outside)
    return Delegation(delegate="XNNPACK", partitions=len(delegates), total_nodes=total,
                      delegated_nodes=total - len(outside),
                      delegated_fraction=(total - len(outside)) / total if total else 0.0,
                      not_delegated_ops=dict(not_delegated))
