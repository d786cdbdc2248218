"""``effmod validate``: re-run an artifact's parity check against the PyTorch model."""
from __future__ import annotations

from pathlib import Path

import torch

from .errors import EffmodError
from .eval.images import validation_batch
from .export.manifest import artifact_sha256
from .export.parity import check_parity
from .models import create_model
from .runtime.base import read_manifest


def validate_artifact(artifact: str, model: str | None = None, weights: str | None = None,
                      num_classes: int | None = None, data: str | None = None, threads: int | None = None) -> dict:
    manifest = read_manifest(artifact) or {}
    model = model or manifest.get("model")
    if model is None:
        raise EffmodError(f"no manifest beside {artifact} to say which model it is", hint="pass --model (and --weights)")
    weights = weights or manifest.get("weights")
    num_classes = num_classes or manifest.get("num_classes", 1000)
    img_size = (manifest.get("input") or {}).get("shape", [1, 3, 224, 224])[2]
    net = create_model(model, num_classes=num_classes, weights=weights, img_size=img_size)
    x, desc = validation_batch(net.data_config, data)
    with torch.no_grad():
        reference = net(torch.from_numpy(x)).numpy()
    precision = manifest.get("precision", "fp32")
    io = {"input": manifest.get("input") or {"layout": "NCHW"}, "output": manifest.get("output")}
    result = check_parity(artifact, io, reference, x, precision, desc)
    if manifest.get("artifact_sha256"):
        result["artifact_sha256_matches_manifest"] = artifact_sha256(Path(artifact)) == manifest["artifact_sha256"]
    return result
