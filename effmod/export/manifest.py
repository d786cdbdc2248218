"""The JSON manifest written beside every artifact (``<artifact>.json``)."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch

from .. import __version__


def artifact_sha256(path: Path) -> str:
    """sha256 of a file, or of a directory package (relative paths + contents, sorted)."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def preprocessing(data_config: dict) -> dict:
    _, h, w = data_config["input_size"]
    crop_pct = data_config.get("crop_pct") or 1.0
    return {
        "mean": list(data_config["mean"]),
        "std": list(data_config["std"]),
        "scale": "pixel / 255",
        "resize": {"shorter_side": int(round(max(h, w) / crop_pct)), "interpolation": data_config.get("interpolation")},
        "crop": {"size": [h, w], "crop_pct": crop_pct, "mode": "center"},
    }


def build_manifest(opts, model, target: str, precision: str, artifact: Path, result, parity: dict,
                   deploy_report: dict | None, export_seconds: float) -> dict:
    info = model.weights_info
    return {
        "effmod_manifest": 1,
        "model": opts.model,
        "num_classes": opts.num_classes,
        "target": target,
        "precision": precision,
        "artifact": artifact.name,
        "artifact_bytes": sum(p.stat().st_size for p in ([artifact] if artifact.is_file() else artifact.rglob("*"))),
        "artifact_sha256": artifact_sha256(artifact),
        "weights": info["source"] if info else None,
        "weights_sha256": info["sha256"] if info else None,
        "trained": info is not None,
        "deploy_form": deploy_report,  # None when exported with --no-deploy-form
        "input": result.input,
        "output": result.output,
        "preprocessing": preprocessing(model.data_config),
        "labels": model.data_config.get("labels"),
        "versions": {"torch": torch.__version__, "converter": result.converter, "runtime": result.runtime,
                     "effmod": __version__},
        "parity": parity,
        "delegation": result.delegation,
        "notes": result.notes,
        "export_seconds": round(export_seconds, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_manifest(artifact: Path, manifest: dict) -> Path:
    path = artifact.with_name(artifact.name + ".json")
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
