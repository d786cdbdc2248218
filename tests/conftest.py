"""Shared fixtures. Tests that need ../shared skip with a reason when it is absent (a user's clone)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference"
GOLDEN_CKPT = REFERENCE / "efficientmod_xxs_seed0_official_format.pth"
GOLDEN_IO = REFERENCE / "efficientmod_xxs_seed0_golden_io.pt"
LAYOUT = REFERENCE / "official_state_dict_layout.json"

needs_shared = pytest.mark.skipif(
    not GOLDEN_CKPT.is_file(),
    reason=f"reference data not found at {REFERENCE} (only CI and developer checkouts have ../shared)",
)


def require_golden_checkpoint() -> None:
    """For module fixtures that export with the reference checkpoint (marks do not reach fixtures)."""
    if not GOLDEN_CKPT.is_file():
        pytest.skip(f"golden checkpoint not found at {GOLDEN_CKPT} (only CI and developer checkouts have ../shared)")


@pytest.fixture(scope="session")
def golden():
    if not GOLDEN_IO.is_file():
        pytest.skip(f"golden reference not found at {GOLDEN_IO} (only CI and developer checkouts have ../shared)")
    return torch.load(GOLDEN_IO)


def perturb(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give norms, biases, layer scales and BN statistics non-trivial values (as the golden
    checkpoint has), so any folding mistake shows in the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "gamma" in name:
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) + 0.5)
    return model


@pytest.fixture(scope="session")
def small_artifacts(tmp_path_factory):
    """xxs with a saved random 10-class checkpoint at 64 px, exported once to all four targets:
    {target: artifact path}. Tests that change an artifact copy it first."""
    pytest.importorskip("coremltools", reason="coremltools not installed (pip install -e '.[all]')")
    from effmod.pipeline import ExportOptions, run_export
    from effmod.console import NullReporter
    from effmod.models import create_model

    out = tmp_path_factory.mktemp("small_artifacts")
    torch.manual_seed(0)  # a saved random checkpoint, so `effmod validate` can rebuild the same model
    ckpt = out / "random10.pth"
    torch.save({"state_dict": create_model("efficientmod_xxs", num_classes=10).state_dict()}, ckpt)
    manifests = run_export(ExportOptions(targets=["tflite", "executorch", "coreml", "onnx"], weights=str(ckpt),
                                         num_classes=10, img_size=64, output=str(out)), NullReporter())
    return {m.target: out / m.artifact for m in manifests}


@pytest.fixture(scope="session")
def golden_exports(tmp_path_factory):
    """One `effmod-export --target all` run with the golden checkpoint at 224 px (all four converters, each
    target's default precision): (exit code, folder, {target: manifest dict}). Shared by the export and
    INT8 tests (the INT8 artifacts are compared with these)."""
    import json

    from effmod.cli import main

    require_golden_checkpoint()
    out = tmp_path_factory.mktemp("export")
    rc = main(["export", "--target", "all", "--weights", str(GOLDEN_CKPT), "--output", str(out),
               "--json", str(out / "run.json")])
    return rc, out, {m["target"]: m for m in json.loads((out / "run.json").read_text())}


@pytest.fixture(scope="session")
def builtin_int8(tmp_path_factory):
    """The built-in CIFAR-10 model's INT8 .tflite and .onnx at 64 px (calibrated on the built-in photos),
    exported once: {target: artifact path}. Tests that change an artifact copy it first."""
    from effmod.console import NullReporter
    from effmod.pipeline import ExportOptions, run_export

    out = tmp_path_factory.mktemp("builtin_int8")
    manifests = run_export(ExportOptions(targets=["tflite", "onnx"], weights="auto", precision="int8",
                                         output=str(out)), NullReporter())
    return {m.target: out / m.artifact for m in manifests}
