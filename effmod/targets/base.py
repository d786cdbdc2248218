"""What every target is (``Target``), receives (``ExportJob``), returns (``TargetResult``) and runs
with (``Runner``). Each ``targets/<name>/__init__.py`` builds one ``Target`` from its own
``convert.py``, ``quantize.py`` and ``runner.py``."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import torch

from ..cost import CostReport
from ..errors import EffmodError
from ..eval.data_config import DataConfig
from ..manifest import Component, Delegation, Manifest, TensorSpec
from ..precision import Precision
from ..recipe import DeployOptions

@dataclass
class ExportJob:
    model: torch.nn.Module             # eval-mode module to convert (deploy form or original)
    example: torch.Tensor              # [1, 3, H, W] float32 example input
    precision: Precision
    data_config: DataConfig
    model_name: str
    image_input: bool = False          # Core ML: bake preprocessing into an ImageType input
    dynamic_batch: bool = False        # ONNX: dynamic batch dim
    calib: np.ndarray | None = None    # INT8: preprocessed calibration images [N, 3, H, W]
    keep_float: tuple[str, ...] = ()   # INT8: --keep-float patterns added to the target's defaults
    io: Literal["float", "int8"] = "float"  # TFLite INT8: "int8" makes the graph input/output integer

    def exported_program(self) -> torch.export.ExportedProgram:
        with torch.no_grad():
            return torch.export.export(self.model, (self.example,))


@dataclass
class TargetResult:
    converter: Component
    runtime: Component
    input: TensorSpec
    output: TensorSpec
    delegation: Delegation | None = None
    notes: list[str] = field(default_factory=list)
    quantizer: dict[str, Any] | None = None  # the quantizer's own description of its scheme (recipe.quantizer)
    # Quantized artifacts: a PyTorch model computing the same quantization in float (PT2E fake-quant,
    # or fake-quantized weights) - the simulated reference parity judges correctness against.
    fake_quant: torch.nn.Module | None = None
    fake_quant_desc: str | None = None
    cost: CostReport | None = None  # targets whose artifact hides its graph report it from the lowered program


def float_io(job: ExportJob, batch: int | str = 1, input_dtype: str = "float32") -> tuple[TensorSpec, TensorSpec]:
    """Manifest ``input``/``output`` entries of a float NCHW image classifier artifact."""
    with torch.no_grad():
        out = job.model(job.example)
    n_cls = int((out[0] if isinstance(out, (tuple, list)) else out).shape[1])
    inp = TensorSpec(name="image", shape=[batch, *job.example.shape[1:]], layout="NCHW", dtype=input_dtype)
    return inp, TensorSpec(name="logits", shape=[batch, n_cls], dtype="float32")


def require_no_keep_float(job: ExportJob, target: str) -> None:
    if job.keep_float:
        raise EffmodError(f"--keep-float is not available for {target} INT8",
                          hint=f"{target} uses an op-type recipe (see its manifest); --keep-float works for executorch and coreml")


class Runner(ABC):
    """Callable artifact: NCHW float32 in, float32 logits out. Subclasses implement ``_run_one`` on one
    batch of the artifact's fixed batch size, handling the artifact's own layout and integer I/O."""

    runtime = "?"          # e.g. "onnxruntime"
    engine = "?"           # what actually executed it, e.g. "onnxruntime CPUExecutionProvider"
    version: str | None = None
    batch: int | None = 1  # fixed batch size of the artifact, None when dynamic

    def __init__(self, path: str | Path, input_spec: TensorSpec | None = None):
        self.path = Path(path)
        if input_spec is None:
            manifest = Manifest.read(self.path)
            input_spec = manifest.input if manifest is not None else None
        self.input_spec = input_spec

    @property
    def input_layout(self) -> str:
        return (self.input_spec.layout if self.input_spec is not None else None) or "NCHW"

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 4:
            raise ValueError(f"expected an NCHW batch [N, 3, H, W], got shape {x.shape}")
        if self.batch is None:
            return self._run_one(x)
        outs = [self._run_one(x[i:i + self.batch]) for i in range(0, len(x), self.batch)]
        return np.concatenate(outs, axis=0)

    @abstractmethod
    def _run_one(self, x: np.ndarray) -> np.ndarray:
        """Run one fixed-size batch (NCHW float32) and return float32 logits."""

    def run_batch(self, x: np.ndarray) -> np.ndarray:
        """One batch of exactly the artifact's batch size, as fed (what latency measures: no batching loop)."""
        return self._run_one(np.ascontiguousarray(x, dtype=np.float32))

    def run_outputs(self, x: np.ndarray) -> list[np.ndarray]:
        """Every graph output of one batch, in the graph's order (artifacts with several outputs)."""
        return [self._run_one(x)]

    def intermediates(self, x: np.ndarray, candidates: dict[str, list[str]]) -> dict[str, np.ndarray]:
        """For one batch: for each key, the value of the first of its candidate tensor names (the PyTorch
        graph's node names) that the artifact has. Keys with no such tensor are left out."""
        raise EffmodError(f"{self.runtime} does not expose the intermediate tensors of {self.path.name}",
                          hint="effmod debug rebuilds the conversion with block outputs exposed instead")

    def host_notes(self, x: np.ndarray, out: np.ndarray) -> list[str]:
        """What this host's CPU makes the runtime do differently from a phone, measured on ``x`` against
        the artifact's outputs ``out`` (none by default)."""
        return []

    def op_report(self, x: np.ndarray, reference: dict[str, np.ndarray]):
        """Op-level comparison for runtimes that observe every op (``Target.debug.op_level``)."""
        raise EffmodError(f"{self.runtime} has no op-level view of {self.path.name}")

    def _to_layout(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if self.input_layout == "NHWC" else x


def quantize_input(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """float -> integer input, as the graph's input quantization says."""
    info = np.iinfo(dtype)
    q = np.round(x / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize_output(y: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((y.astype(np.float32) - zero_point) * scale).astype(np.float32)


@dataclass(frozen=True)
class OpRow:
    """One op of an artifact against the PyTorch node it was converted from (op-level debug)."""

    index: int
    op_type: str
    mil_name: str                  # the op's output name in the artifact (Core ML: the MIL name)
    module: str
    sqnr_db: float
    max_abs: float
    drop_db: float | None          # SQNR lost in this op, vs the worst of its inputs


@dataclass(frozen=True)
class DebugSupport:
    """How ``effmod debug`` reads an artifact's block outputs.

    ``taps``: "artifact" reads them from the artifact itself (``Runner.intermediates``); "rebuild"
    converts the deploy form again with every block output as a graph output (XNNPACK hides
    intermediates inside its delegate).
    ``tensor_graphs``: the ``torch.export`` graphs whose node names the artifact's tensors carry.
    ``op_level``: precisions with an op-by-op view (``Runner.op_report``).
    ``dequantized``: precisions whose block outputs are read where the program dequantizes them (the
    real value a quantized program must hold; the converter may rescale the tensors around it)."""

    taps: Literal["artifact", "rebuild"]
    runner_options: dict[str, Any] = field(default_factory=dict)
    tensor_graphs: Callable[..., list] | None = None   # (model, manifest, example) -> [(graph, name prefix)]
    op_level: tuple[Precision, ...] = ()
    dequantized: tuple[Precision, ...] = ()


@dataclass(frozen=True)
class Arm64Support:
    """How ``--arch arm64`` runs this target's artifacts: the emulated worker's runtime entry and the
    distribution whose aarch64 wheels provide it; or, when effmod cannot, why (one line)."""

    worker: Literal["litert", "onnxruntime", "executorch"] | None = None  # the runtime entry of emulation/worker.py
    package: str | None = None
    unavailable: str = "no aarch64 runtime is declared for this target"


def always_timed() -> str | None:
    return None


@dataclass(frozen=True)
class Target:
    """Everything effmod knows about one target, in one record. Generic code asks the record; it never
    compares a target's name."""

    name: str                                     # what --target takes
    suffix: str                                   # artifact file/folder suffix, e.g. ".tflite"
    artifact_kind: str                            # for messages: "an ONNX model", "a TFLite model", ...
    precisions: tuple[Precision, ...]             # the first is the default
    deploy_options: DeployOptions                 # deploy-form details measured fastest in this runtime
    default_keep_float: tuple[str, ...] | None    # INT8 float islands; None: an op-type recipe without them
    converter_modules: tuple[str, ...]            # what `effmod doctor` imports to check the converter
    runtime_module: str | None                    # ... and the runtime (None: the OS provides it)
    convert: Callable[[ExportJob, Path], TargetResult]
    runner: Callable[..., Runner]                 # runner(path, input_spec=None, threads=None, **options)
    # INT8 without a PyTorch fake-quant model: the same artifact run by the runtime's reference kernels
    # (runner options, and what that means) is the simulated quantized reference
    reference_options: dict | None = None
    reference_desc: str | None = None
    # correctness bounds of this target's quantized artifacts, per precision (measured; docs/parity.md)
    correctness_bounds: dict[str, dict[str, float]] = field(default_factory=dict)
    debug: DebugSupport = DebugSupport("rebuild")
    label: str = ""                               # for people: "Core ML", "TFLite (LiteRT)", ...
    colour: str = "grey"                          # in plots (matplotlib colour)
    packages: tuple[str, ...] = ()                # distributions whose versions results record
    takes_image_input: bool = False               # --image-input: RGB input with preprocessing in the graph
    dynamic_batch: bool = False                   # --dynamic-batch
    int8_io: bool = False                         # --io int8: integer graph input/output
    # why artifacts cannot be timed on this machine (None: they can); Core ML needs macOS
    cannot_time_here: Callable[[], str | None] = always_timed
    arm64: Arm64Support = Arm64Support()         # --arch arm64: the aarch64 runtime under QEMU
    # latency of several artifacts of this runtime in one process, in turn (pipeline.latency.bench_together):
    # False where the runtime's thread pools disturb each other across sessions (then each runs alone)
    timed_together: bool = True
    # the cost report (effmod.cost) read from an artifact file; None: only the converter can make it
    artifact_cost: Callable[[Path], CostReport] | None = None

    @property
    def default_precision(self) -> Precision:
        return self.precisions[0]

    def reference_runner(self, path: Path, input_spec: TensorSpec | None = None, threads: int | None = None) -> Runner:
        return self.runner(path, input_spec, threads=threads, **(self.reference_options or {}))

    def cost_of(self, path: Path, made: CostReport | None = None) -> CostReport | None:
        """The cost report the converter made, else the one read from the artifact, else None."""
        if made is not None:
            return made
        return self.artifact_cost(path) if self.artifact_cost is not None else None

    @property
    def has_float_islands(self) -> bool:
        """Whether --keep-float / auto-fallback can keep single modules in float (PT2E recipes)."""
        return self.default_keep_float is not None
