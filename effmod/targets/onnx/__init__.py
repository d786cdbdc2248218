"""ONNX: ``torch.onnx.export(dynamo=True)`` (``convert.py``), onnxruntime static QDQ INT8
(``quantize.py``), run by onnxruntime's CPU execution provider (``runner.py``)."""
from ...recipe import DeployOptions
from ..base import Arm64Support, DebugSupport, Target
from ..debug_graphs import exported_and_decomposed
from .convert import convert as convert_artifact  # the package attribute "convert" stays the module
from .runner import OnnxRunner
from .cost import artifact_cost

ONNX = Target(
    name="onnx",
    artifact_kind="an ONNX model",
    suffix=".onnx",
    precisions=("fp32", "int8"),
    # Plain NCHW form: onnxruntime (MLAS) runs 7×7 depthwise fast; a split 7×7 dw (row bands) measured 8.7 -> 11.1 ms (xxs).
    deploy_options=DeployOptions(),
    default_keep_float=None,  # op-type recipe (quantize.py): no per-module float islands
    converter_modules=("onnxscript",),
    runtime_module="onnxruntime",
    convert=convert_artifact,
    # INT8 correctness vs the simulated reference: measured on the built-in model's 200-image sample
    # minus ~5 dB (docs/parity.md); integer kernels round differently from any float simulation
    correctness_bounds={"int8": {"sqnr_db": 27.0}},
    reference_options={"optimize": False},
    reference_desc="the same QDQ graph run by onnxruntime with graph optimizations off (quantize/dequantize simulated in float)",
    runner=OnnxRunner,
    debug=DebugSupport("artifact", tensor_graphs=exported_and_decomposed),
    label="ONNX Runtime",
    colour="tab:blue",
    packages=("onnx", "onnxruntime", "onnxscript"),
    dynamic_batch=True,
    artifact_cost=artifact_cost,
    # ORT sessions' spinning thread pools slow each other in one process (3 INT8/fp32 sessions in turn:
    # 3.9-8.3 ms against 2.2-2.7 ms each alone, CIFAR xxs): each .onnx is timed alone
    timed_together=False,
    arm64=Arm64Support("onnxruntime", "onnxruntime"),
)
