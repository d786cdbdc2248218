"""``effmod validate``: re-run an artifact's parity check against the PyTorch model."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import EffmodError
from ..eval.images import validation_batch
from ..manifest import Manifest, artifact_sha256
from ..models import create_model
from ..parity import ParityResult
from .export import check_artifact


def validate_artifact(artifact: str, model: str | None = None, weights: str | None = None,
                      num_classes: int | None = None, data: str | None = None,
                      threads: int | None = None) -> ParityResult:
    manifest = Manifest.read(artifact)
    model = model or (manifest.model if manifest else None)
    if model is None:
        raise EffmodError(f"no manifest beside {artifact} to say which model it is", hint="pass --model (and --weights)")
    weights = weights or (manifest.weights if manifest else None)
    num_classes = num_classes or (manifest.num_classes if manifest else None) or 1000
    img_size = manifest.input.shape[2] if manifest else 224
    net = create_model(model, num_classes=num_classes, weights=weights, img_size=img_size)
    x, desc = validation_batch(net.info.data_config, data)
    with torch.no_grad():
        reference = net(torch.from_numpy(x)).numpy()
    precision = manifest.precision if manifest else "fp32"
    result = check_artifact(Path(artifact), manifest.input if manifest else None, x, reference, precision, desc)
    if manifest and manifest.artifact_sha256:
        result.artifact_sha256_matches_manifest = artifact_sha256(Path(artifact)) == manifest.artifact_sha256
    return result
