"""``effmod debug ARTIFACT``: where does an artifact stop computing what PyTorch computes?

Block by block (stem, every ``stages.i.j``, the final norm, the head) the artifact's outputs are compared
with PyTorch's: the fp32 deploy model always, and for INT8 also the simulated quantized reference
(PT2E fake-quant, or the same graph on reference kernels), against which divergence is judged. The
first block whose SQNR falls below the threshold is where to look.

How the artifact's block outputs are read:
- ONNX: from the artifact itself, a copy of its graph with the block outputs added as graph outputs
  (the dynamo exporter names tensors after the PyTorch graph's nodes);
- Core ML: from the artifact itself through effmod's executor, which observes every op; the op-level
  view names the first op whose error jumps and the first op that overflows fp16 or makes inf/nan,
  with its MIL name and the PyTorch module it came from;
- TFLite, ExecuTorch: XNNPACK hides intermediates inside its delegate, so the same conversion (same
  deploy form, same quantization recipe and calibration) is rebuilt with every block output as a graph
  output, and that is run in the real runtime. The report says so.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ..console import NullReporter, Reporter
from ..deploy import DeployOptions, reparameterize
from ..deploy.modules import DeployEfficientMod
from ..errors import EffmodError
from ..manifest import Manifest
from ..models import create_model
from ..precision import is_quantized
from ..targets import ExportJob, Target, for_artifact, load_runner
from .export import validation_data
from .recipe import recorded_calibration, recorded_keep_float

DEBUG_IMAGES = 32  # images compared, at most (every op output of every image is kept in turn)
# A block "diverges" when its SQNR against the judging reference falls below this (--threshold-db).
# Healthy artifacts of the built-in model measure fp32 > 110 dB, fp16 > 55 dB, INT8 vs its simulated
# reference > 20 dB at every block (docs/parity.md).
THRESHOLD_DB = {"fp32": 80.0, "fp16": 45.0, "int8": 15.0, "int8-weights": 35.0}
JUMP_DB = 10.0  # an op "makes" the error when its SQNR is this much below its inputs'


@dataclass
class Stats:
    """Error of one tensor, accumulated over images."""

    signal: float = 0.0
    noise: float = 0.0
    max_abs: float = 0.0
    cosine: float = 1.0

    def add(self, ref: np.ndarray, out: np.ndarray) -> None:
        ref, out = np.asarray(ref, np.float64).ravel(), np.asarray(out, np.float64).ravel()
        err = out - ref
        self.signal += float(ref @ ref)
        self.noise += float(err @ err)
        self.max_abs = max(self.max_abs, float(np.abs(err).max()) if err.size else 0.0)
        denom = np.linalg.norm(ref) * np.linalg.norm(out)
        self.cosine = min(self.cosine, float(ref @ out / denom) if denom else 1.0)

    @property
    def sqnr_db(self) -> float:
        if self.noise == 0:
            return float("inf")
        return float(10 * np.log10(max(self.signal, 1e-30) / self.noise))


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
class OpRow:
    index: int
    op_type: str
    mil_name: str
    module: str
    sqnr_db: float
    max_abs: float
    drop_db: float | None          # SQNR lost in this op, vs the worst of its inputs


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


# ----------------------------------------------------------------------------- the blocks
def block_names(model: DeployEfficientMod) -> list[str]:
    names = ["stem"]
    for i, stage in enumerate(model.stages):
        names += [f"stages.{i}.{j}" for j in range(len(stage))]
    return names + ["head.norm", "head"]


class Tapped(nn.Module):
    """The deploy model returning every block output after the logits. It holds the same submodules under
    the same names, so float islands and quantization recipes apply to it unchanged."""

    def __init__(self, deploy: DeployEfficientMod):
        super().__init__()
        self.stem, self.stages, self.head = deploy.stem, deploy.stages, deploy.head

    def forward(self, x):
        outs = [self.stem(x)]
        for stage in self.stages:
            for blk in stage:
                outs.append(blk(outs[-1]))
        return (self.head(outs[-1]), *outs, self.head.norm(outs[-1]))


def tapped_order(blocks: list[str]) -> list[str]:
    """Tapped's outputs after the logits, by block name."""
    return blocks[:-2] + ["head.norm"]


def capture_modules(model: nn.Module, x: np.ndarray, blocks: list[str]) -> list[dict[str, np.ndarray]]:
    """Per image, each block's output in the PyTorch model (forward hooks)."""
    seen: dict[str, np.ndarray] = {}
    handles = [model.get_submodule(b).register_forward_hook(
        lambda m, i, o, b=b: seen.__setitem__(b, o.detach().numpy().copy())) for b in blocks]
    out = []
    try:
        with torch.no_grad():
            for k in range(len(x)):
                seen.clear()
                model(torch.from_numpy(x[k:k + 1]))
                out.append(dict(seen))
    finally:
        for h in handles:
            h.remove()
    return out


def _stack_paths(node) -> list[str]:
    return [v[0] for v in (node.meta.get("nn_module_stack") or {}).values()]


def block_output_nodes(graph, blocks: list[str]) -> dict[str, str]:
    """The node computing each block's output in a ``torch.export`` graph: the last node inside the block
    (by its module stack) that something outside the block consumes."""
    nodes = [n for n in graph.nodes if n.op == "call_function"]
    found = {}
    for b in blocks:
        inside = [n for n in nodes if b in _stack_paths(n)]
        members = set(inside)
        outs = [n for n in inside if any(u not in members for u in n.users)]
        if outs:
            found[b] = outs[-1].name
    return found


def node_modules(graph) -> dict[str, str]:
    return {n.name: (_stack_paths(n) or [""])[-1] for n in graph.nodes}


def capture_graph(gm: torch.fx.GraphModule, x: np.ndarray, names: set[str] | None = None) -> list[dict[str, np.ndarray]]:
    """Per image, the value of every node (or of ``names``) of a graph module, via the FX interpreter."""
    out = []

    class Grab(torch.fx.Interpreter):
        def run_node(self, n):
            r = super().run_node(n)
            if isinstance(r, torch.Tensor) and (names is None or n.name in names):
                seen[n.name] = r.detach().float().numpy().copy()
            return r

    with torch.no_grad():
        for k in range(len(x)):
            seen: dict[str, np.ndarray] = {}
            Grab(gm).run(torch.from_numpy(x[k:k + 1]))
            out.append(seen)
    return out


# ----------------------------------------------------------------------------- the command
def _deploy(net, manifest: Manifest) -> DeployEfficientMod:
    if manifest.deploy_form is None:
        raise EffmodError(f"{manifest.artifact} was exported with --no-deploy-form; effmod debug cuts the deploy form "
                          "into blocks", hint="re-export it without --no-deploy-form to debug it")
    try:
        options = DeployOptions(**manifest.deploy_form.get("options", {}))
    except TypeError:
        raise EffmodError(f"the manifest of {manifest.artifact} records deploy options this effmod does not know",
                          hint="re-export the artifact with this effmod version") from None
    return reparameterize(net, options=options)


def _fake_quant(deploy, target: Target, manifest: Manifest, net, calib: str | None, example):
    """PT2E targets: the fake-quantized deploy model, rebuilt with the manifest's calibration."""
    from ..quantize.pt2e import pt2e_int8

    images = recorded_calibration(manifest, net.info.data_config, calib).images
    fake, _ = pt2e_int8(deploy, example, images, target.default_keep_float or (), recorded_keep_float(manifest))
    return fake, images


def _rebuilt_outputs(deploy, target: Target, manifest: Manifest, net, x, calib_images, reporter) -> tuple[list, list | None, str]:
    """TFLite/ExecuTorch: convert Tapped(deploy) the same way and run it; per image the block outputs
    (real runtime) and, for INT8 TFLite, the same on the reference kernels."""
    q = manifest.quantization or {}
    keep = tuple(recorded_keep_float(manifest)) if target.has_float_islands else ()
    job = ExportJob(model=Tapped(deploy).eval(), example=torch.from_numpy(x[:1]), precision=manifest.precision,
                    data_config=net.info.data_config, model_name=manifest.model, calib=calib_images, keep_float=keep,
                    io=q.get("io", "float"))
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
                                  f"({type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''})",
                                  hint="debug the ONNX or Core ML export of the same model instead") from None
        runner = load_runner(path, input_spec=result.input)
        try:
            outs = [runner.run_outputs(x[k:k + 1]) for k in range(len(x))]
        except Exception as e:  # noqa: BLE001 - seen: ExecuTorch 1.4.1 runs the tapped fp32 program, not the INT8 one
            raise EffmodError(f"{runner.engine} could not run the rebuilt {manifest.precision} program with its block "
                              f"outputs exposed ({type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''})",
                              hint="debug the fp32 export, or the ONNX/TFLite export of the same model and recipe") from None
        sim = None
        if is_quantized(manifest.precision) and target.reference_options is not None:
            ref_runner = target.reference_runner(path, result.input)
            sim = [ref_runner.run_outputs(x[k:k + 1]) for k in range(len(x))]
        return outs, sim, runner.engine
    finally:
        shutil.rmtree(build, ignore_errors=True)


def debug_artifact(artifact: str, data: str | None = None, threshold_db: float | None = None,
                   images: int = DEBUG_IMAGES, calib: str | None = None, reporter: Reporter | None = None) -> DebugReport:
    reporter = reporter or NullReporter()
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
    if target.name == "coreml" and manifest.precision == "int8":
        # Measured on the built-in model: the W8A8 program's block outputs differ from PyTorch's by constant
        # factors of up to 30x (quantized adds' inputs rescaled and compensated in later quantize ops), so
        # a block-by-block comparison would name blocks that are fine.
        raise EffmodError(f"effmod debug cannot compare the blocks of a Core ML W8A8 program ({path.name}): "
                          "coremltools rescales its quantized tensors between ops, so they are not in PyTorch's scale",
                          hint="debug the fp16 Core ML export, or the ExecuTorch/TFLite INT8 export of the same model")
    precision = manifest.precision
    threshold = THRESHOLD_DB[precision] if threshold_db is None else threshold_db
    with reporter.stage("load model and images"):
        net = create_model(manifest.model, num_classes=manifest.num_classes, weights=manifest.weights,
                           img_size=int(manifest.input.shape[2]))
        validation = validation_data(net, data)
        x = np.ascontiguousarray(validation.x[:images])
        deploy = _deploy(net, manifest)
        blocks = block_names(deploy)
    notes = []
    with reporter.stage("PyTorch block outputs"):
        ref32 = capture_modules(deploy, x, blocks)
    example = torch.from_numpy(x[:1])
    fake = None
    sim: list[dict] | None = None
    sim_desc = None
    calib_images = None
    if precision == "int8" and target.has_float_islands:
        with reporter.stage("simulated INT8 reference (PT2E, rebuilt with the manifest's calibration)"):
            fake, calib_images = _fake_quant(deploy, target, manifest, net, calib, example)
            fq_nodes = block_output_nodes(fake.graph, blocks[:-1])
            raw = capture_graph(fake, x, set(fq_nodes.values()))
            sim = [{b: r[n] for b, n in fq_nodes.items() if n in r} for r in raw]
            for k, r in enumerate(sim):
                with torch.no_grad():
                    r["head"] = fake(torch.from_numpy(x[k:k + 1])).numpy()
            sim_desc = "PyTorch fake-quantized model (PT2E)"
    elif precision == "int8" and target.name != "onnx":  # ONNX's reference is the artifact itself, unoptimized
        calib_images = recorded_calibration(manifest, net.info.data_config, calib).images

    with reporter.stage(f"{target.name}: block outputs of the artifact"):
        if target.runner.exposes_intermediates:  # the artifact itself (ONNX, Core ML through the executor)
            candidates = _candidates(target, deploy, fake if target.name == "coreml" and precision == "int8" else None,
                                     blocks[:-1], example, manifest)
            runner = load_runner(path, input_spec=manifest.input, **({"engine": "executor"} if target.name == "coreml" else {}))
            art = _block_tensors(runner, x, candidates)
            missing = [b for b in blocks if b not in art[0]]
            if missing:
                notes.append(f"not found in the artifact (fused away by the converter): {', '.join(missing)}")
            side = f"the artifact itself, run by {runner.engine}"
            if precision == "int8" and target.name == "onnx":
                ref_runner = target.reference_runner(path, manifest.input)
                sim = _block_tensors(ref_runner, x, candidates)
                sim_desc = target.reference_desc
        else:
            outs, sim_outs, engine = _rebuilt_outputs(deploy, target, manifest, net, x, calib_images, reporter)
            order = ["head"] + tapped_order(blocks)
            art = [dict(zip(order, o)) for o in outs]
            if sim_outs is not None:
                sim = [dict(zip(order, o)) for o in sim_outs]
                sim_desc = target.reference_desc + " (rebuilt the same way)"
            side = (f"a rebuilt conversion (same deploy form and recipe) with every block output as a graph output, "
                    f"run by {engine}: the XNNPACK delegate hides intermediates inside itself")

    judged = sim if sim is not None else ref32
    reference = sim_desc if sim is not None else "PyTorch fp32 deploy model"
    rows, prev = [], None
    for b in blocks:
        if b not in art[0] or b not in judged[0]:
            continue
        st, st32 = Stats(), Stats()
        for k in range(len(x)):
            st.add(judged[k][b], _layout_like(art[k][b], judged[k][b]))
            st32.add(ref32[k][b], _layout_like(art[k][b], ref32[k][b]))
        growth = None if prev is None else prev - st.sqnr_db
        rows.append(BlockRow(b, round(st.sqnr_db, 2), st.max_abs, st.cosine,
                             None if growth is None else round(growth, 2),
                             round(st32.sqnr_db, 2) if sim is not None else None, st.sqnr_db < threshold))
        prev = st.sqnr_db
    first = next((r.block for r in rows if r.below_threshold), None)
    grown = [r for r in rows if r.growth_db is not None]
    largest = max(grown, key=lambda r: r.growth_db).block if grown else None
    report = DebugReport(str(path), target.name, precision, validation.description, len(x), side, reference, threshold,
                         rows, first, largest, notes=notes)
    if target.name == "coreml" and precision in ("fp32", "fp16", "int8-weights"):
        with reporter.stage("coreml: op by op"):
            _coreml_ops(report, runner, deploy, x, example, manifest)
    return report


def _block_tensors(runner, x: np.ndarray, candidates: dict[str, list[str]]) -> list[dict[str, np.ndarray]]:
    """Per image, the artifact's own block tensors (runners that expose them) and its logits as "head"."""
    out = []
    for k in range(len(x)):
        got = runner.intermediates(x[k:k + 1], candidates)
        got["head"] = runner(x[k:k + 1])
        out.append(got)
    return out


def _candidates(target: Target, deploy, fake, blocks: list[str], example, manifest: Manifest) -> dict[str, list[str]]:
    """Per block, the names its output tensor may have in the artifact. Core ML names MIL ops after the
    nodes of the decomposed graph of the model it converted (the PT2E model for INT8, behind the
    normalisation for image input), so only that graph's names apply: another graph's ``add_4`` can be
    a different add there. The dynamo ONNX exporter may keep either graph's names."""
    converted = fake if fake is not None else deploy
    prefix = ""
    if target.name == "coreml" and manifest.input.dtype == "image_rgb":
        from ..targets.coreml.convert import normalized_for_image_input

        converted, prefix = normalized_for_image_input(converted, manifest), "model."
    with torch.no_grad():
        ep = torch.export.export(converted, (example,))
    graphs = [ep.run_decompositions({}).graph] if target.name == "coreml" else [ep.graph, ep.run_decompositions({}).graph]
    found = [block_output_nodes(g, [prefix + b for b in blocks]) for g in graphs]
    return {b: list(dict.fromkeys(f[prefix + b] for f in found if prefix + b in f)) for b in blocks}


def _layout_like(out: np.ndarray, ref: np.ndarray) -> np.ndarray:
    if out.shape == ref.shape:
        return out
    if out.ndim == 4 and out.transpose(0, 3, 1, 2).shape == ref.shape:  # NHWC graph output
        return out.transpose(0, 3, 1, 2)
    raise EffmodError(f"a block output of shape {out.shape} cannot be compared with PyTorch's {ref.shape}")


def _coreml_ops(report: DebugReport, runner, deploy, x, example, manifest: Manifest) -> None:
    """Every MIL op against the PyTorch node it was converted from (same name), in program order."""
    from ..targets.coreml.convert import normalized_for_image_input

    model = normalized_for_image_input(deploy, manifest) if manifest.input.dtype == "image_rgb" else deploy
    with torch.no_grad():
        ep = torch.export.export(model, (example,)).run_decompositions({})
    modules = node_modules(ep.graph)
    fx = capture_graph(ep.module(), x)
    ops = [op for op in runner.executor.ops]
    by_name = {}
    for op in ops:
        name = op.outputs[0][0]
        base = name
        for suffix in ("_cast_fp16", "_cast_fp32"):
            base = base.replace(suffix, "")
        if base in fx[0]:
            by_name[name] = base
    stats = {n: Stats() for n in by_name}
    first_nf = None
    for k in range(len(x)):
        got = runner.executor.run({runner.input_name: runner._feed(x[k:k + 1])}, keep=set(by_name))  # noqa: SLF001
        for n, base in by_name.items():
            if got[n].shape == fx[k][base].shape:
                stats[n].add(fx[k][base], got[n])
        created = [e for e in runner.executor.last_stats.non_finite if e.from_finite]
        if created and first_nf is None:
            first_nf = f"{created[0].op}: {created[0].kind} (image {k})"
    sq = {n: s.sqnr_db for n, s in stats.items() if s.signal > 0}
    rows = []
    for op in ops:
        name = op.outputs[0][0]
        if name not in sq:
            continue
        inputs = [sq[ref] for bindings in op.inputs.values() for kind, ref in bindings if kind == "var" and ref in sq]
        drop = (min(inputs) - sq[name]) if inputs else None
        rows.append(OpRow(op.index, op.type, name, modules.get(by_name[name], ""), round(sq[name], 2),
                          stats[name].max_abs, None if drop is None else round(drop, 2)))
    report.ops = rows
    # Name an op only inside the first divergent block: healthy fp16 programs have ops that lose many
    # dB on tiny values (squares in a norm) without harming anything downstream.
    if report.first_divergent is not None:
        inside = report.first_divergent + "."
        report.first_op_jump = next((r for r in rows if r.drop_db is not None and r.drop_db > JUMP_DB
                                     and (r.module + ".").startswith(inside)), None)
    report.first_non_finite = first_nf
