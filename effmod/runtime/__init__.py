"""Deprecated location: runners live with their targets (``effmod.targets.<name>.runner``) and are
opened with ``effmod.targets.load_runner``. ``effmod.runtime.load`` keeps working."""
from __future__ import annotations

from ..manifest import TensorSpec
from ..targets import Runner, load_runner


def load(artifact_path, threads: int | None = None, manifest: dict | None = None, **options) -> Runner:
    """Deprecated: use ``effmod.targets.load_runner``."""
    spec = TensorSpec.from_dict(manifest["input"]) if manifest and manifest.get("input") else None
    return load_runner(artifact_path, threads=threads, input_spec=spec, **options)


__all__ = ["load", "Runner"]
