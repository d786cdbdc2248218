"""What each demo app accepts, and the config JSON the app reads at launch (derived from the manifest).

The app code reads exactly the keys written here (tests check the Swift/Kotlin sources against them),
so the config is the one contract between effmod and the apps.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import EffmodError
from ...manifest import Manifest
from ...targets import COREML, EXECUTORCH, TFLITE, for_artifact

CONFIG_FILE = "effmod_config.json"
LABELS_FILE = "labels.txt"
SELFTEST_FILE = "selftest.png"


@dataclass(frozen=True)
class AppSpec:
    template: str                      # folder under apps/
    project: str                       # the project folder inside the template (renamed to --name)
    bundle_dir: str                    # where model, config, labels and sample go, relative to the project
    runtimes: dict[str, tuple[str, ...]]  # artifact suffix -> input dtypes the app code handles


APPS = {
    # iOS: a Swift Playgrounds-style app package (opens in Xcode 15+); the .mlpackage is compiled on
    # the device at first launch (MLModel.compileModel), so no Xcode model build step is involved.
    "ios": AppSpec(template="ios", project="EffmodDemo.swiftpm", bundle_dir="Sources/Bundle",
                   runtimes={COREML.suffix: ("float32", "float16", "image_rgb")}),
    "android": AppSpec(template="android", project="EffmodDemo", bundle_dir="app/src/main/assets",
                       runtimes={TFLITE.suffix: ("float32", "int8"), EXECUTORCH.suffix: ("float32",)}),
}


def check_artifact_fits_app(app: str, artifact: Path, manifest: Manifest | None) -> None:
    """Refuse, with the fix, an artifact the app cannot run (wrong runtime, layout or dtype)."""
    if app not in APPS:
        raise EffmodError(f"unknown app '{app}'", hint="choose ios or android")
    spec = APPS[app]
    suffix = artifact.suffix
    if suffix not in spec.runtimes:
        other = next((a for a, s in APPS.items() if suffix in s.runtimes), None)
        hint = f"package it with --app {other}" if other else "export one with effmod export"
        raise EffmodError(f"{artifact.name} is not an artifact the {app} app runs "
                          f"(it takes {', '.join(spec.runtimes)})", hint=hint)
    if manifest is None:
        raise EffmodError(f"no manifest beside {artifact} ({artifact.name}.json)",
                          hint="package an artifact written by effmod export, with its .json beside it")
    inp = manifest.input
    if inp.layout != "NCHW" or len(inp.shape) != 4 or inp.shape[0] != 1:
        raise EffmodError(f"{artifact.name} has input {inp.layout} {inp.shape}; the apps feed one "
                          "NCHW image (batch 1)", hint="export without --dynamic-batch")
    dtypes = spec.runtimes[suffix]
    if inp.dtype not in dtypes:
        raise EffmodError(f"{artifact.name} takes {inp.dtype} input; the {app} app feeds "
                          f"{' or '.join(dtypes)} to {suffix} models",
                          hint="export with --io float" if inp.dtype == "int8" else "export with default I/O")
    if manifest.parity.status == "failed":
        raise EffmodError(f"{artifact.name} failed its parity check at export",
                          hint="fix the export (see its manifest's parity.failures) before shipping it in an app")


def labels_for(manifest: Manifest) -> list[str]:
    n = manifest.num_classes or manifest.output.shape[-1]
    return list(manifest.labels) if manifest.labels else [f"class_{i}" for i in range(n)]


def build_app_config(app: str, artifact: Path, manifest: Manifest, model_file: str, self_test: dict) -> dict:
    pre = manifest.preprocessing.to_dict()
    return {
        "effmod_app_config": 1,
        "app": app,
        "runtime": for_artifact(artifact).name,
        "model_name": manifest.model,
        "weights": manifest.weights,
        "model_file": model_file,
        "source_artifact": artifact.name,
        "artifact_sha256": manifest.artifact_sha256,
        "precision": manifest.precision,
        "quantization": manifest.quantization,
        "input": manifest.input.to_dict(),    # name, shape, layout, dtype (+ scale/zero_point for int8)
        "output": manifest.output.to_dict(),
        "mean": pre["mean"],
        "std": pre["std"],
        "resize": pre["resize"],          # shorter side and interpolation
        "crop": pre["crop"],              # center crop size
        "labels_file": LABELS_FILE,
        "num_classes": len(labels_for(manifest)),
        "self_test": self_test,
    }
