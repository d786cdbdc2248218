"""Core ML: coremltools converts the ExportedProgram to an ML program (``convert.py``); INT8 is PT2E
W8A8 or weight-only (``quantize.py``); ``runner.py`` runs it with Core ML on macOS and with effmod's
ML-program executor (``mlprogram/``) elsewhere."""
from ...recipe import DeployOptions
from ..base import Arm64Support, DebugSupport, Target
from .cost import artifact_cost
from .debug import tensor_graphs
from .convert import convert as convert_artifact  # the package attribute "convert" stays the module
from .quantize import DEFAULT_KEEP_FLOAT
from .runner import CoreMLRunner, cannot_time_here

COREML = Target(
    name="coreml",
    artifact_kind="a Core ML package",
    suffix=".mlpackage",
    precisions=("fp16", "fp32", "int8", "int8-weights"),
    # Core ML has native 7×7 depthwise. The channel norms are scaled before squaring, which fp16 compute
    # needs (ChannelNorm.scaled); coremltools then no longer fuses them into layer_norm, so on device they
    # run as separate fp16 ops. Latency of either form is not measured: no Mac here.
    deploy_options=DeployOptions(scaled_norm=True),
    default_keep_float=DEFAULT_KEEP_FLOAT,
    converter_modules=("coremltools",),
    runtime_module=None,  # Core ML is part of macOS/iOS; elsewhere the executor in mlprogram/ runs it
    convert=convert_artifact,
    # INT8 correctness vs the simulated reference: measured on the built-in model's 200-image sample
    # minus ~5 dB (docs/parity.md); integer kernels round differently from any float simulation
    correctness_bounds={"int8": {"sqnr_db": 21.0}, "int8-weights": {"sqnr_db": 40.0}},
    runner=CoreMLRunner,
    debug=DebugSupport(
        "artifact", runner_options={"engine": "executor"}, tensor_graphs=tensor_graphs,
        op_level=("fp32", "fp16", "int8-weights"),
        # Measured on the built-in model: the W8A8 program's add outputs differ from PyTorch's by constant
        # factors of up to 30x (coremltools rescales a quantized add's inputs and compensates in the next
        # quantize), so its blocks are read at the dequantize after each block output's quantize.
        dequantized=("int8",)),
    label="Core ML",
    colour="tab:purple",
    packages=("coremltools",),
    takes_image_input=True,
    cannot_time_here=cannot_time_here,
    artifact_cost=artifact_cost,
    arm64=Arm64Support(unavailable="Core ML runs only on Apple devices: there is no aarch64 Linux build of it to "
                                   "emulate (effmod's executor checks its numbers on any CPU)"),
)
