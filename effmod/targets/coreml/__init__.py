"""Core ML: coremltools converts the ExportedProgram to an ML program (``convert.py``); INT8 is PT2E
W8A8 or weight-only (``quantize.py``); ``runner.py`` runs it with Core ML on macOS and with effmod's
ML-program executor (``mlprogram/``) elsewhere."""
from ...deploy import DeployOptions
from ..base import Target
from .convert import convert
from .quantize import DEFAULT_KEEP_FLOAT
from .runner import CoreMLRunner

COREML = Target(
    name="coreml",
    artifact_kind="a Core ML package",
    suffix=".mlpackage",
    precisions=("fp16", "fp32", "int8", "int8-weights"),
    # Plain form: Core ML has native 7×7 depthwise and fuses mean/rsqrt into layer_norm (not timed: no Mac here).
    deploy_options=DeployOptions(),
    default_keep_float=DEFAULT_KEEP_FLOAT,
    converter_modules=("coremltools",),
    runtime_module=None,  # Core ML is part of macOS/iOS; elsewhere the executor in mlprogram/ runs it
    convert=convert,
    runner=CoreMLRunner,
)
