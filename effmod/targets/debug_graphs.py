"""The ``torch.export`` graphs whose node names an artifact's tensors carry (``DebugSupport.tensor_graphs``):
``effmod debug`` finds each block's output tensor in the artifact by these names."""
from __future__ import annotations

import torch


def exported_and_decomposed(model: torch.nn.Module, manifest, example: torch.Tensor) -> list:
    """The dynamo ONNX exporter may keep the names of either graph."""
    with torch.no_grad():
        ep = torch.export.export(model, (example,))
    return [(ep, ""), (ep.run_decompositions({}), "")]
