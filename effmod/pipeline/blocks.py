"""The deploy model cut into blocks (stem, every ``stages.i.j``, the final norm, the head), and the
ways to read each block's output: forward hooks on PyTorch modules, FX interpretation of an exported
graph, and ``Tapped``, the model that returns every block output after the logits."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from ..deploy.modules import DeployEfficientMod


def block_names(model: DeployEfficientMod) -> list[str]:
    names = ["stem"]
    for i, stage in enumerate(model.stages):
        names += [f"stages.{i}.{j}" for j in range(len(stage))]
    return names + ["head.norm", "head"]


class Tapped(nn.Module):
    """The deploy model returning every block output after the logits. It holds the same submodules under
    the same names, so float islands and quantization recipes apply to it unchanged."""

    def __init__(self, deploy: DeployEfficientMod):
        super().__init__()
        self.stem, self.stages, self.head = deploy.stem, deploy.stages, deploy.head

    def forward(self, x):
        outs = [self.stem(x)]
        for stage in self.stages:
            for blk in stage:
                outs.append(blk(outs[-1]))
        return (self.head(outs[-1]), *outs, self.head.norm(outs[-1]))


def tapped_order(blocks: list[str]) -> list[str]:
    """Tapped's outputs after the logits, by block name."""
    return blocks[:-2] + ["head.norm"]


def capture_modules(model: nn.Module, x: np.ndarray, blocks: list[str]) -> list[dict[str, np.ndarray]]:
    """Per image, each block's output in the PyTorch model (forward hooks)."""
    seen: dict[str, np.ndarray] = {}
    handles = [model.get_submodule(b).register_forward_hook(
        lambda m, i, o, b=b: seen.__setitem__(b, o.detach().numpy().copy())) for b in blocks]
    out = []
    try:
        with torch.no_grad():
            for k in range(len(x)):
                seen.clear()
                model(torch.from_numpy(x[k:k + 1]))
                out.append(dict(seen))
    finally:
        for h in handles:
            h.remove()
    return out


def _stack_paths(node) -> list[str]:
    return [v[0] for v in (node.meta.get("nn_module_stack") or {}).values()]


def block_output_nodes(graph, blocks: list[str]) -> dict[str, str]:
    """The node computing each block's output in a ``torch.export`` graph: the last node inside the block
    (by its module stack) that something outside the block consumes."""
    nodes = [n for n in graph.nodes if n.op == "call_function"]
    found = {}
    for b in blocks:
        inside = [n for n in nodes if b in _stack_paths(n)]
        members = set(inside)
        outs = [n for n in inside if any(u not in members for u in n.users)]
        if outs:
            found[b] = outs[-1].name
    return found


def _is_op(node, name: str) -> bool:
    return node.op == "call_function" and getattr(node.target, "__name__", str(node.target)).split(".")[0] == name


def dequantized_points(graph, nodes: dict[str, str]) -> dict[str, str]:
    """Per block, where a quantized graph holds its output as a real value. A block output that only feeds
    a ``quantize_per_tensor`` may be rescaled by a converter (it is never read as a float), so it is read
    at the ``dequantize_per_tensor`` reading it back; one that float ops also read is real as it is."""
    by_name = {n.name: n for n in graph.nodes}
    points = {}
    for block, name in nodes.items():
        node = by_name[name]
        if not node.users or not all(_is_op(u, "quantize_per_tensor") for u in node.users):
            points[block] = name
            continue
        q = next(iter(node.users))
        dq = next((u for u in q.users if _is_op(u, "dequantize_per_tensor")), None)
        points[block] = dq.name if dq is not None else name
    return points


def node_modules(graph) -> dict[str, str]:
    return {n.name: (_stack_paths(n) or [""])[-1] for n in graph.nodes}


def capture_graph(gm: torch.fx.GraphModule, x: np.ndarray, names: set[str] | None = None) -> list[dict[str, np.ndarray]]:
    """Per image, the value of every node (or of ``names``) of a graph module, via the FX interpreter."""
    out = []

    class Grab(torch.fx.Interpreter):
        def run_node(self, n):
            r = super().run_node(n)
            if isinstance(r, torch.Tensor) and (names is None or n.name in names):
                seen[n.name] = r.detach().float().numpy().copy()
            return r

    with torch.no_grad():
        for k in range(len(x)):
            seen: dict[str, np.ndarray] = {}
            Grab(gm).run(torch.from_numpy(x[k:k + 1]))
            out.append(seen)
    return out


def layout_like(out: np.ndarray, ref: np.ndarray) -> np.ndarray:
    from ..errors import EffmodError

    if out.shape == ref.shape:
        return out
    if out.ndim == 4 and out.transpose(0, 3, 1, 2).shape == ref.shape:  # NHWC graph output
        return out.transpose(0, 3, 1, 2)
    raise EffmodError(f"a block output of shape {out.shape} cannot be compared with PyTorch's {ref.shape}")
