"""Re-check a finished artifact from the PyTorch side (``effmod validate``).

fp32/fp16 artifacts are compared with the PyTorch model named in the manifest. A quantized artifact is
compared with a simulated quantized reference that is *rebuilt* from PyTorch with the manifest's recipe
(same deploy form, calibration images, float islands), so a changed or broken artifact cannot vouch for
itself. The rebuild takes about as long as the export did."""
from __future__ import annotations

from pathlib import Path

from ..console import NullReporter, Reporter
from ..errors import EffmodError
from ..manifest import Manifest, artifact_sha256
from ..parity import ParityResult, judge_rebuild
from ..precision import is_quantized
from ..targets import for_artifact, load_runner
from .inputs import load_model, reference_outputs, validation_data
from .arm64 import Arm64Inputs, Arm64Request, attach, check_arm64, prepare
from .parity_check import artifact_outputs, run_artifact, run_parity
from .rebuild import rebuild_simulated_reference


def revalidate(artifact: str, model: str | None = None, weights: str | None = None, num_classes: int | None = None,
               data: str | None = None, threads: int | None = None, calib: str | None = None,
               overrides: dict | None = None, reporter: Reporter | None = None,
               arm64: Arm64Request | None = None) -> ParityResult:
    """The artifact re-checked against PyTorch; with ``arm64``, also in the aarch64 build of its runtime on
    each emulated CPU (``result.arm64``)."""
    reporter = reporter or NullReporter()
    path = Path(artifact)
    target = for_artifact(path)
    chain = prepare(target, path, arm64, reporter) if arm64 is not None else None
    manifest = Manifest.read(path)
    model = model or (manifest.model if manifest else None)
    if model is None:
        raise EffmodError(f"no manifest beside {artifact} to say which model it is", hint="pass --model (and --weights)")
    if not path.exists():
        raise EffmodError(f"artifact not found: {artifact}")
    weights = weights or (manifest.weights if manifest else None)
    num_classes = num_classes or (manifest.num_classes if manifest else None) or 1000
    img_size = manifest.input.shape[2] if manifest else 224
    with reporter.stage("load model and reference outputs"):
        net = load_model(model, weights, num_classes, img_size)
        validation = validation_data(net, data)
        reference = reference_outputs(net, validation)
    precision = manifest.precision if manifest else "fp32"
    simulated = desc = rebuilt = None
    if is_quantized(precision):
        if manifest is None:
            raise EffmodError(f"{artifact} has no manifest: a quantized artifact is validated against a reference "
                              "rebuilt with its recipe, which the manifest records", hint="re-export it with effmod")
        simulated, desc, rebuilt = rebuild_simulated_reference(net, target, manifest, validation, reference, calib,
                                                               reporter, threads)
    with reporter.stage(f"{target.name}: parity"):
        result = run_parity(path, manifest.input if manifest else None, validation, reference, precision, target,
                            overrides, threads, simulated, desc)
    if rebuilt is not None:
        runner = load_runner(path, threads=threads, input_spec=manifest.input)
        result.rebuild = judge_rebuild(run_artifact(runner, validation.x), rebuilt, runner.engine)
        for f in result.rebuild.failures:
            result.fail(f"rebuild: {f} (the artifact is not what its recipe builds from PyTorch)")
    if arm64 is not None:
        x86, _ = artifact_outputs(path, manifest.input if manifest else None, validation.x, threads)
        attach(result, check_arm64(chain, target, path, manifest.input if manifest else None, precision,
                                   Arm64Inputs(validation, reference, x86, simulated, desc), arm64, reporter, overrides))
    if manifest and manifest.artifact_sha256:
        result.artifact_sha256_matches_manifest = artifact_sha256(path) == manifest.artifact_sha256
        if not result.artifact_sha256_matches_manifest:
            result.fail("the artifact changed since export: its sha256 differs from its manifest's")
    return result
