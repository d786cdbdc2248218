"""TFLite (LiteRT): litert-torch converts (``convert.py``), ai-edge-quantizer makes INT8
(``quantize.py``), ai_edge_litert runs it with its default XNNPACK delegate (``runner.py``)."""
from ...recipe import DeployOptions
from ..base import Arm64Support, DebugSupport, Target
from .convert import convert as convert_artifact  # the package attribute "convert" stays the module
from .runner import TFLiteRunner
from .cost import artifact_cost

TFLITE = Target(
    name="tflite",
    artifact_kind="a TFLite model",
    suffix=".tflite",
    precisions=("fp32", "int8"),
    # XNNPACK lacks fast >25-tap depthwise kernels: 7×7 split into row bands measured 14.8 -> 9.1 ms (xxs, 2
    # threads); the dilated split (no slices) then 0.94× (fp32) / 0.91× (int8) of the banded time. The context's
    # repeat folded into g removes 18 NHWC<->NCHW transposes: 0.98× (fp32) / 0.93× (int8), and lets the multiply be INT8.
    deploy_options=DeployOptions(split_large_dw=True, tile_context=True),
    default_keep_float=None,  # op-type recipe (quantize.py): no per-module float islands
    converter_modules=("litert_torch",),
    runtime_module="ai_edge_litert.interpreter",
    convert=convert_artifact,
    # INT8 correctness vs the simulated reference: measured on the built-in model's 200-image sample
    # minus ~5 dB (docs/parity.md); integer kernels round differently from any float simulation
    correctness_bounds={"int8": {"sqnr_db": 28.0}},
    reference_options={"delegate": False},
    reference_desc="the same .tflite run by TFLite's builtin kernels instead of XNNPACK",
    runner=TFLiteRunner,
    debug=DebugSupport("rebuild"),
    label="TFLite (LiteRT)",
    colour="tab:orange",
    packages=("ai-edge-litert", "litert-torch", "ai-edge-quantizer"),
    int8_io=True,
    artifact_cost=artifact_cost,
    arm64=Arm64Support("litert", "ai-edge-litert"),
)
