"""What an artifact costs a phone beyond its MACs: how much of the MAC work runs in INT8, how many float
islands and quantize/dequantize converts lie between the INT8 ops, how many nodes the runtime steps
through, and how the delegate cut the graph.

Host milliseconds depend on the host (AMX, VNNI); these counts do not. On a phone the INT8 MACs are
cheap (dot-product, i8mm), so every float island, convert and node boundary weighs more there than on
an x86 host. Each target reads its own graph into ``GraphNode`` records (``targets/<name>/cost.py``);
``cost_report`` does the counting, the same way for all."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

NodeKind = Literal["compute", "quantize", "dequantize"]


@dataclass(frozen=True)
class GraphNode:
    """One op as its runtime runs it. ``inputs``/``outputs``: activation tensors only (weights and other
    constants are left out). ``int8``: True/False where the tensors' dtype says; None for QDQ graphs,
    where an op runs in INT8 when it reads only dequantized values and only quantizes feed on it (the
    pattern ONNX Runtime, XNNPACK and Core ML fuse into one integer kernel)."""

    op: str
    kind: NodeKind
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    macs: int = 0
    int8: bool | None = None


@dataclass(frozen=True)
class CostReport:
    nodes: int                     # ops the runtime runs: compute ops + converts (fused Q/DQ and constants left out)
    macs: int                      # multiply-accumulates of convs, linears and matmuls
    int8_macs: int                 # ... of them in INT8 kernels
    int8_nodes: int                # ops that run in INT8 (MAC ops and others)
    converts: int                  # quantize/dequantize at a float op's border (not fused into an INT8 op)
    float_islands: int             # connected groups of float ops (an all-float graph is one)
    partitions: int | None = None  # delegate partitions (None: the runtime has no delegate)
    outside_delegate: dict[str, int] = field(default_factory=dict)  # op -> count run outside it
    read_from: str = "artifact"    # "artifact", or the lowered program where the artifact hides its graph

    @property
    def int8_mac_share(self) -> float:
        return self.int8_macs / self.macs if self.macs else 0.0

    def outside_text(self) -> str:
        """The ops run outside the delegate, for tables ("none" when it took everything)."""
        return ", ".join(f"{op} ×{n}" for op, n in self.outside_delegate.items()) or "none"

    def summary(self) -> str:
        part = "" if self.partitions is None else f", {self.partitions} partition(s)"
        out = sum(self.outside_delegate.values())
        outside = f", {out} op(s) outside the delegate" if out else ""
        return (f"INT8 MACs {self.int8_mac_share:.0%}, {self.float_islands} float island(s), {self.converts} "
                f"Q/DQ, {self.nodes} nodes{part}{outside}")

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["int8_mac_share"] = round(self.int8_mac_share, 4)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> CostReport:
        values = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        return cls(**values)


def matmul_inner_dim(a, b, out) -> int:
    """The summed dim of a batched matmul from the shapes alone (converters hide their transpose flags in
    places a reader cannot always resolve): A's two last dims are (M, K) or (K, M), B's (K, N) or (N, K),
    the output's (M, N)."""
    m, n = int(out[-2]), int(out[-1])
    for k in ([int(a[-1])] if int(a[-2]) == m else []) + ([int(a[-2])] if int(a[-1]) == m else []):
        if (int(b[-2]) == k and int(b[-1]) == n) or (int(b[-1]) == k and int(b[-2]) == n):
            return k
    return int(a[-1])


def _runs_int8(node: GraphNode, producers: dict[str, GraphNode], consumers: dict[str, list[GraphNode]]) -> bool:
    if node.kind != "compute":
        return False
    if node.int8 is not None:
        return node.int8
    readers = [c for t in node.outputs for c in consumers.get(t, [])]
    return (bool(node.inputs) and all(t in producers and producers[t].kind == "dequantize" for t in node.inputs)
            and bool(readers) and all(c.kind == "quantize" for c in readers))


def _converts(node: GraphNode, int8: set[int], producers: dict[str, GraphNode],
              consumers: dict[str, list[GraphNode]]) -> bool:
    """A quantize fed by a float op, or a dequantize read by one: the converts an INT8 kernel cannot absorb
    (those between two INT8 ops fuse away)."""
    if node.kind == "quantize":
        return any(t not in producers or id(producers[t]) not in int8 for t in node.inputs)
    if node.kind == "dequantize":
        readers = [c for t in node.outputs for c in consumers.get(t, [])]
        return not readers or any(id(c) not in int8 and c.kind == "compute" for c in readers)
    return False


def cost_report(nodes: list[GraphNode], partitions: int | None = None,
                outside_delegate: dict[str, int] | None = None, read_from: str = "artifact") -> CostReport:
    producers = {t: n for n in nodes for t in n.outputs}
    consumers: dict[str, list[GraphNode]] = {}
    for n in nodes:
        for t in n.inputs:
            consumers.setdefault(t, []).append(n)
    int8 = {id(n) for n in nodes if _runs_int8(n, producers, consumers)}
    floats = [n for n in nodes if n.kind == "compute" and id(n) not in int8]
    # float islands: connected components of float ops, joined where one feeds another directly
    parent = {id(n): id(n) for n in floats}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for n in floats:
        for t in n.inputs:
            p = producers.get(t)
            if p is not None and id(p) in parent:
                parent[root(id(n))] = root(id(p))
    converts = sum(1 for n in nodes if _converts(n, int8, producers, consumers))
    return CostReport(
        nodes=sum(1 for n in nodes if n.kind == "compute") + converts, macs=sum(n.macs for n in nodes),
        int8_macs=sum(n.macs for n in nodes if id(n) in int8), int8_nodes=len(int8), converts=converts,
        float_islands=len({root(id(n)) for n in floats}), partitions=partitions,
        outside_delegate=dict(outside_delegate or {}), read_from=read_from)
