"""ExecuTorch: ``torch.export`` lowered with the XNNPACK partitioner (``convert.py``), PT2E INT8 with
XNNPACK's quantizer (``quantize.py``), run by ``executorch.runtime`` (``runner.py``)."""
from ...recipe import DeployOptions
from ..base import Arm64Support, DebugSupport, Target
from .convert import convert as convert_artifact  # the package attribute "convert" stays the module
from .quantize import DEFAULT_KEEP_FLOAT
from .runner import ExecuTorchRunner

EXECUTORCH = Target(
    name="executorch",
    artifact_kind="an ExecuTorch program",
    suffix=".pte",
    precisions=("fp32", "int8"),
    # conv channel-mean: 47 -> 1 XNNPACK partitions; plus 7×7 dw split into ≤25-tap parts: 19.6 -> 10.0 ms with
    # row bands (xxs, 2 threads), then 0.95× (fp32) / 0.95× (int8) that time with the dilated split; the context's
    # repeat folded into g: 0.97× (fp32) / 0.89× (int8).
    deploy_options=DeployOptions(channel_mean="conv", split_large_dw=True, tile_context=True),
    default_keep_float=DEFAULT_KEEP_FLOAT,
    converter_modules=("executorch.backends.xnnpack.partition.xnnpack_partitioner",),
    runtime_module="executorch.runtime",
    convert=convert_artifact,
    # INT8 correctness vs the simulated reference: measured on the built-in model's 200-image sample
    # minus ~5 dB (docs/parity.md); integer kernels round differently from any float simulation
    correctness_bounds={"int8": {"sqnr_db": 22.0}},
    runner=ExecuTorchRunner,
    # INT8, measured with ExecuTorch 1.4.1 on the built-in model (docs/parity.md): the rebuild with block outputs
    # exposed fails execute() ("Propagating input shapes failed" in XNNPACK, even with one block tapped); one
    # delegate per op runs but takes 5 min 14 s to build; delegates cut at block boundaries fail to lower.
    debug=DebugSupport("rebuild", refused={"int8": (
        "ExecuTorch 1.4.1's XNNPACK delegate cannot run its INT8 program with block outputs exposed (measured: "
        "\"Propagating input shapes failed\", whichever block is tapped)",
        "debug the TFLite or ONNX INT8 export of the same model, or the fp32 .pte, for the blocks; "
        "effmod validate checks this artifact")}),
    label="ExecuTorch",
    colour="tab:green",
    packages=("executorch",),
    arm64=Arm64Support(unavailable="ExecuTorch's aarch64 runtime imports torch, and the registry's aarch64 torch "
                                   "wheel is a CUDA build whose nvidia-nccl pin it does not serve, so effmod does "
                                   "not provision it (docs/arm64.md)"),
)
