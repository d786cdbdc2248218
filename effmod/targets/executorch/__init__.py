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
    # INT8: the rebuilt program's block outputs are its dequantize nodes (PT2E routes the graph outputs through
    # them), so the PT2E reference is read at the same points
    debug=DebugSupport("rebuild", dequantized=("int8",)),
    label="ExecuTorch",
    colour="tab:green",
    packages=("executorch",),
    arm64=Arm64Support(unavailable="ExecuTorch's aarch64 runtime imports torch, and the registry's aarch64 torch "
                                   "wheel is a CUDA build whose nvidia-nccl pin it does not serve, so effmod does "
                                   "not provision it (docs/arm64.md)"),
)
