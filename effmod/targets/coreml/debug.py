"""What ``effmod debug`` needs to know of Core ML programs: which graph their MIL names come from."""
from __future__ import annotations

import torch

from .convert import normalized_for_image_input


def tensor_graphs(model: torch.nn.Module, manifest, example: torch.Tensor) -> list:
    """coremltools names MIL ops after the nodes of the decomposed graph of the model it converted (behind
    the in-graph normalisation for image input, whose submodule is ``model.``), so only that graph's
    names apply: another graph's ``add_4`` can be a different add there."""
    prefix = ""
    if manifest.recipe.image_input:
        model, prefix = normalized_for_image_input(model, manifest), "model."
    with torch.no_grad():
        ep = torch.export.export(model, (example,)).run_decompositions({})
    return [(ep, prefix)]
