"""Where does an artifact stop computing what PyTorch computes? (``effmod debug``)

Block by block (stem, every ``stages.i.j``, the final norm, the head) the artifact's outputs are compared
with PyTorch's: the fp32 deploy model always, and for INT8 also the simulated quantized reference
(PT2E fake-quant, or the same graph on reference kernels), against which divergence is judged. The
first block whose SQNR falls below the threshold is where to look.

Each target declares how its block outputs are read (``Target.debug``): from the artifact itself
(ONNX: a copy of its graph with block outputs added; Core ML: effmod's executor, which also gives an
op-by-op view), or from a rebuilt conversion with every block output as a graph output (TFLite and
ExecuTorch: XNNPACK hides intermediates inside its delegate). The report says which.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..console import NullReporter, Reporter
from ..deploy import reparameterize
from ..deploy.modules import DeployEfficientMod
from ..errors import EffmodError, first_line
from ..eval.metrics import TensorStats
from ..manifest import Manifest
from ..precision import is_quantized
from ..targets import ExportJob, OpRow, Target, for_artifact, load_runner
from .blocks import Tapped, block_names, block_output_nodes, capture_graph, capture_modules, dequantized_points, \
    layout_like, node_modules, tapped_order
from .inputs import load_model, validation_data
from .rebuild import recorded_calibration

DEBUG_IMAGES = 32  # images compared, at most (every op output of every image is kept in turn)
# A block "diverges" when its SQNR against the judging reference falls below this (--threshold-db).
# Healthy artifacts of the built-in model measure fp32 > 110 dB, fp16 > 55 dB, INT8 vs its simulated
# reference > 20 dB at every block (docs/parity.md).
THRESHOLD_DB = {"fp32": 80.0, "fp16": 45.0, "int8": 15.0, "int8-weights": 35.0}
JUMP_DB = 10.0  # an op "makes" the error when its SQNR is this much below its inputs'


@dataclass
class BlockRow:
    block: str
    sqnr_db: float                 # vs the judging reference
    max_abs: float
    cosine: float
    growth_db: float | None        # SQNR lost since the block before (positive: the error grew here)
    sqnr_vs_fp32_db: float | None  # INT8: the same against fp32 PyTorch
    below_threshold: bool


@dataclass
class DebugReport:
    artifact: str
    target: str
    precision: str
    data: str
    n_images: int
    artifact_side: str             # where the artifact's block outputs came from
    reference: str                 # what divergence is judged against
    threshold_db: float
    blocks: list[BlockRow]
    first_divergent: str | None
    largest_growth: str | None
    ops: list[OpRow] = field(default_factory=list)
    first_op_jump: OpRow | None = None
    first_non_finite: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Case:
    """One debug run's fixed facts: the artifact, its recipe and target, the images and the deploy model."""

    path: Path
    target: Target
    manifest: Manifest
    net: torch.nn.Module
    deploy: DeployEfficientMod
    x: np.ndarray
    data: str
    blocks: list[str]

    @property
    def example(self) -> torch.Tensor:
        return torch.from_numpy(self.x[:1])


@dataclass
class Sides:
    """Per image and block: the artifact's outputs, and the simulated INT8 reference's (if any)."""

    artifact: list[dict[str, np.ndarray]]
    side: str
    simulated: list[dict[str, np.ndarray]] | None = None
    simulated_desc: str | None = None
    runner: object = None
    notes: list[str] = field(default_factory=list)


def _open(artifact: str, images: int) -> tuple[Path, Target, Manifest]:
    """The artifact, its target and manifest; a request the target cannot serve is refused here, before
    any model load or rebuild."""
    path = Path(artifact)
    if not path.exists():
        raise EffmodError(f"artifact not found: {artifact}")
    target = for_artifact(path)
    manifest = Manifest.for_artifact(path)
    if manifest.input.layout not in (None, "NCHW") or manifest.input.shape[0] not in (1, "batch"):
        raise EffmodError(f"effmod debug feeds one NCHW image at a time; {path.name} takes "
                          f"{manifest.input.layout} {manifest.input.shape}", hint="debug a batch-1 NCHW export")
    if images < 1:
        raise EffmodError(f"--images must be at least 1 (got {images})")
    if not manifest.recipe.deploy_form:
        raise EffmodError(f"{manifest.artifact} was exported with --no-deploy-form; effmod debug cuts the deploy form "
                          "into blocks", hint="re-export it without --no-deploy-form to debug it")
    return path, target, manifest


def _case(path: Path, target: Target, manifest: Manifest, data: str | None, images: int) -> Case:
    net = load_model(manifest.model, manifest.weights, manifest.num_classes, int(manifest.input.shape[2]))
    validation = validation_data(net, data)
    deploy = reparameterize(net, options=manifest.recipe.deploy_options)
    return Case(path, target, manifest, net, deploy, np.ascontiguousarray(validation.x[:images]),
                validation.description, block_names(deploy))


def _fake_quant_blocks(case: Case, calib: str | None):
    """PT2E targets: the fake-quantized deploy model rebuilt with the manifest's calibration, its block
    outputs per image, and the calibration images."""
    from ..quantize.pt2e import pt2e_int8

    images = recorded_calibration(case.manifest, case.net.info.data_config, calib).images
    fake, _ = pt2e_int8(case.deploy, case.example, images, case.target.default_keep_float or (),
                        list(case.manifest.recipe.float_islands))
    nodes = _read_points(case, fake.graph, block_output_nodes(fake.graph, case.blocks[:-1]))
    raw = capture_graph(fake, case.x, set(nodes.values()))
    sim = [{b: r[n] for b, n in nodes.items() if n in r} for r in raw]
    for k, r in enumerate(sim):
        with torch.no_grad():
            r["head"] = fake(torch.from_numpy(case.x[k:k + 1])).numpy()
    return fake, sim, images


def _read_points(case: Case, graph, nodes: dict[str, str]) -> dict[str, str]:
    """Block output nodes, or where the target says a quantized program holds them as real values."""
    return dequantized_points(graph, nodes) if case.manifest.precision in case.target.debug.dequantized else nodes


def _candidates(case: Case, converted: torch.nn.Module) -> dict[str, list[str]]:
    """Per block, the names its output tensor may have in the artifact (the target says which graphs'
    node names its tensors carry)."""
    blocks = case.blocks[:-1]
    found = [_read_points(case, ep.graph, block_output_nodes(ep.graph, [prefix + b for b in blocks])) | {"": prefix}
             for ep, prefix in case.target.debug.tensor_graphs(converted, case.manifest, case.example)]
    return {b: list(dict.fromkeys(f[f[""] + b] for f in found if f[""] + b in f)) for b in blocks}


def _block_tensors(runner, x: np.ndarray, candidates: dict[str, list[str]]) -> list[dict[str, np.ndarray]]:
    """Per image, the artifact's own block tensors (runners that expose them) and its logits as "head"."""
    out = []
    for k in range(len(x)):
        got = runner.intermediates(x[k:k + 1], candidates)
        got["head"] = runner(x[k:k + 1])
        out.append(got)
    return out


def _from_artifact(case: Case, fake) -> Sides:
    target, manifest = case.target, case.manifest
    candidates = _candidates(case, fake if fake is not None else case.deploy)
    runner = load_runner(case.path, input_spec=manifest.input, **target.debug.runner_options)
    sides = Sides(_block_tensors(runner, case.x, candidates), f"the artifact itself, run by {runner.engine}",
                  runner=runner)
    missing = [b for b in case.blocks if b not in sides.artifact[0]]
    if missing:
        sides.notes.append(f"not found in the artifact (fused away by the converter): {', '.join(missing)}")
    if manifest.precision == "int8" and fake is None and target.reference_options is not None:
        sides.simulated = _block_tensors(target.reference_runner(case.path, manifest.input), case.x, candidates)
        sides.simulated_desc = target.reference_desc
    return sides


def _from_rebuild(case: Case, calib_images, reporter: Reporter) -> Sides:
    """Convert Tapped(deploy) the same way and run it: per image the block outputs (real runtime) and,
    where the target has reference kernels, the same on those."""
    target, manifest, recipe = case.target, case.manifest, case.manifest.recipe
    job = ExportJob(model=Tapped(case.deploy).eval(), example=case.example, precision=recipe.precision,
                    data_config=case.net.info.data_config, model_name=manifest.model, calib=calib_images,
                    keep_float=recipe.float_islands if target.has_float_islands else (), io=recipe.io)
    build = Path(tempfile.mkdtemp(prefix=".effmod-debug-"))
    try:
        path = build / f"tapped{target.suffix}"
        with reporter.stage(f"{target.name}: rebuild with block outputs exposed"):
            try:
                result = target.convert(job, path)
            except EffmodError:
                raise
            except Exception as e:  # noqa: BLE001 - the tapped graph is ours; a failure means it cannot be cut
                raise EffmodError(f"{target.name} could not convert the deploy form with its block outputs exposed "
                                  f"({first_line(e)})", hint="debug the ONNX or Core ML export of the same model instead") from None
        runner = load_runner(path, input_spec=result.input)
        x = case.x
        try:
            outs = [runner.run_outputs(x[k:k + 1]) for k in range(len(x))]
        except Exception as e:  # noqa: BLE001 - seen before own_output_dequantize: ExecuTorch INT8 (docs/parity.md)
            raise EffmodError(f"{runner.engine} could not run the rebuilt {recipe.precision} program with its block "
                              f"outputs exposed ({first_line(e)})",
                              hint="debug the fp32 export, or the ONNX/TFLite export of the same model and recipe") from None
        order = ["head"] + tapped_order(case.blocks)
        sides = Sides([dict(zip(order, o)) for o in outs],
                      f"a rebuilt conversion (same deploy form and recipe) with every block output as a graph output, "
                      f"run by {runner.engine}: the XNNPACK delegate hides intermediates inside itself")
        if is_quantized(recipe.precision) and target.reference_options is not None:
            ref_runner = target.reference_runner(path, result.input)
            sides.simulated = [dict(zip(order, ref_runner.run_outputs(x[k:k + 1]))) for k in range(len(x))]
            sides.simulated_desc = target.reference_desc + " (rebuilt the same way)"
        return sides
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _block_rows(case: Case, judged: list[dict], ref32: list[dict], art: list[dict], int8_ref: bool,
                threshold: float) -> list[BlockRow]:
    rows, prev = [], None
    for b in case.blocks:
        if b not in art[0] or b not in judged[0]:
            continue
        st, st32 = TensorStats(), TensorStats()
        for k in range(len(case.x)):
            st.add(judged[k][b], layout_like(art[k][b], judged[k][b]))
            st32.add(ref32[k][b], layout_like(art[k][b], ref32[k][b]))
        growth = None if prev is None else prev - st.sqnr_db
        rows.append(BlockRow(b, round(st.sqnr_db, 2), st.max_abs, st.cosine,
                             None if growth is None else round(growth, 2),
                             round(st32.sqnr_db, 2) if int8_ref else None, st.sqnr_db < threshold))
        prev = st.sqnr_db
    return rows


def _op_level(report: DebugReport, case: Case, runner) -> None:
    """Every op of the artifact against the PyTorch node it came from (targets with ``op_level``)."""
    ep, _ = case.target.debug.tensor_graphs(case.deploy, case.manifest, case.example)[0]
    fx = capture_graph(ep.module(), case.x)
    report.ops, report.first_non_finite = runner.op_report(case.x, fx, node_modules(ep.graph))
    # Name an op only inside the first divergent block: healthy fp16 programs have ops that lose many
    # dB on tiny values (squares in a norm) without harming anything downstream.
    if report.first_divergent is not None:
        inside = report.first_divergent + "."
        report.first_op_jump = next((r for r in report.ops if r.drop_db is not None and r.drop_db > JUMP_DB
                                     and (r.module + ".").startswith(inside)), None)


def debug_artifact(artifact: str, data: str | None = None, threshold_db: float | None = None,
                   images: int = DEBUG_IMAGES, calib: str | None = None, reporter: Reporter | None = None) -> DebugReport:
    reporter = reporter or NullReporter()
    path, target, manifest = _open(artifact, images)
    precision = manifest.precision
    threshold = THRESHOLD_DB[precision] if threshold_db is None else threshold_db
    with reporter.stage("load model and images"):
        case = _case(path, target, manifest, data, images)
    with reporter.stage("PyTorch block outputs"):
        ref32 = capture_modules(case.deploy, case.x, case.blocks)
    fake = sim = calib_images = None
    if precision == "int8" and target.has_float_islands:
        with reporter.stage("simulated INT8 reference (PT2E, rebuilt with the manifest's calibration)"):
            fake, sim, calib_images = _fake_quant_blocks(case, calib)
    elif precision == "int8" and target.debug.taps == "rebuild":
        calib_images = recorded_calibration(manifest, case.net.info.data_config, calib).images
    with reporter.stage(f"{target.name}: block outputs of the artifact"):
        sides = _from_artifact(case, fake) if target.debug.taps == "artifact" else \
            _from_rebuild(case, calib_images, reporter)
    sim_desc = "PyTorch fake-quantized model (PT2E)" if sim is not None else sides.simulated_desc
    sim = sim if sim is not None else sides.simulated
    judged = sim if sim is not None else ref32
    rows = _block_rows(case, judged, ref32, sides.artifact, sim is not None, threshold)
    grown = [r for r in rows if r.growth_db is not None]
    report = DebugReport(str(path), target.name, precision, case.data, len(case.x), sides.side,
                         sim_desc if sim is not None else "PyTorch fp32 deploy model", threshold, rows,
                         next((r.block for r in rows if r.below_threshold), None),
                         max(grown, key=lambda r: r.growth_db).block if grown else None, notes=sides.notes)
    if precision in target.debug.op_level:
        with reporter.stage(f"{target.name}: op by op"):
            _op_level(report, case, sides.runner)
    return report
