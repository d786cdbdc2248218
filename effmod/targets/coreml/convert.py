"""Core ML ML-program ``.mlpackage`` via coremltools from the ExportedProgram (iOS 17+)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn as nn

from ... import __version__
from ...manifest import TensorSpec
from ...manifest import Component
from ...versions import installed
from ..base import ExportJob, TargetResult, float_io
from .quantize import DEFAULT_KEEP_FLOAT


class _Normalize(nn.Module):
    """(x - mean) / std in front of the model, for ImageType inputs that deliver x = pixel / 255.
    Core ML's ImageType bias is per-channel but its scale is a scalar, so exact per-channel std
    normalisation has to live in the graph."""

    def __init__(self, model: nn.Module, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("inv_std", 1.0 / torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x - self.mean) * self.inv_std)


# Ops computed in fp32 inside fp16 programs. layer_norm: its input is the residual stream, which on
# real images reaches |x - mean| > 256 in stage 4 (xxs on CIFAR-10: 430 of 10,000 test images, up to
# 429), so (x - mean)^2 passes fp16's 65504, the variance becomes inf and the output collapses to 0
# (found with effmod debug; docs/coreml-on-linux.md). Everything else stays fp16.
FP32_OPS = ("layer_norm",)


def fp16_compute(ct):
    return ct.transform.FP16ComputePrecision(op_selector=lambda op: op.op_type not in FP32_OPS)


def normalized_for_image_input(model: nn.Module, manifest) -> nn.Module:
    """``model`` behind the in-graph normalisation an --image-input export adds (for op-level debugging)."""
    return _Normalize(model, manifest.input.mean, manifest.input.std).eval()


def _io_desc(job: ExportJob, mlmodel) -> tuple[TensorSpec, TensorSpec]:
    """Manifest I/O entries with the dtypes the converted program really declares: coremltools makes
    the I/O of an fp16 iOS16+ program float16, and apps must feed what the model declares."""
    from coremltools.proto import FeatureTypes_pb2

    inp, out = float_io(job)
    spec = mlmodel.get_spec()
    names = FeatureTypes_pb2.ArrayFeatureType.ArrayDataType
    if job.image_input:
        inp.dtype, inp.pixel_range = "image_rgb", [0, 255]
        inp.mean, inp.std = list(job.data_config.mean), list(job.data_config.std)
    else:
        inp.dtype = names.Name(spec.description.input[0].type.multiArrayType.dataType).lower()
    out.dtype = names.Name(spec.description.output[0].type.multiArrayType.dataType).lower()
    return inp, out


def convert(job: ExportJob, out_path: Path) -> TargetResult:
    import coremltools as ct

    model, example = job.model, job.example
    quant, fake, fake_desc = None, None, None
    if job.precision == "int8":
        from ...quantize.pt2e import pt2e_int8

        fake, kept = pt2e_int8(job.model, example, job.calib, DEFAULT_KEEP_FLOAT, job.keep_float)
        fake_desc = "PyTorch fake-quantized model (PT2E), fp32 compute"
        model = fake
        quant = {"tool": "PT2E (torchao) + XNNPACKQuantizer annotations -> MIL quantize/dequantize",
                 "scheme": "W8A8: INT8 per-channel weights, INT8 per-tensor activations, fp16 compute", **kept}
    if job.image_input:
        model = _Normalize(model, job.data_config.mean, job.data_config.std).eval()
    with torch.no_grad():
        ep = torch.export.export(model, (example,)).run_decompositions({})
    if job.image_input:
        inp = ct.ImageType(name="image", shape=tuple(example.shape), scale=1 / 255.0,
                           color_layout=ct.colorlayout.RGB)
    else:
        inp = ct.TensorType(name="image", shape=tuple(example.shape))
    precision = ct.precision.FLOAT32 if job.precision == "fp32" else fp16_compute(ct)
    mlmodel = ct.convert(ep, inputs=[inp], outputs=[ct.TensorType(name="logits")],
                         convert_to="mlprogram", minimum_deployment_target=ct.target.iOS17,
                         compute_precision=precision)
    if job.precision == "int8-weights":
        from .quantize import fake_quantize_weights, quantize_weights

        mlmodel = quantize_weights(mlmodel)
        fake = fake_quantize_weights(job.model)
        fake_desc = "PyTorch with the same int8 weight quantization, fp32 compute"
        quant = {"tool": "coremltools.optimize.coreml.linear_quantize_weights",
                 "scheme": "INT8 per-channel symmetric weights (tensors ≥ 2048 elements), fp16 activations"}
    inp_desc, out_desc = _io_desc(job, mlmodel)
    n_cls = out_desc.shape[1]
    mlmodel.short_description = (f"{job.model_name} image classifier ({n_cls} classes), exported by effmod "
                                 f"{__version__}, precision {job.precision}")
    mlmodel.author = "effmod"
    mlmodel.version = __version__
    mlmodel.input_description["image"] = (
        "RGB image, {}x{}".format(*example.shape[2:]) if job.image_input else
        "float32 NCHW [1,3,H,W], normalised: (pixel/255 - mean) / std with mean {} std {}".format(
            list(job.data_config.mean), list(job.data_config.std)))
    mlmodel.output_description["logits"] = f"class logits [1, {n_cls}] (apply softmax for probabilities)"
    meta = mlmodel.user_defined_metadata
    meta["effmod_version"] = __version__
    meta["model"] = job.model_name
    meta["preprocessing"] = json.dumps({k: getattr(job.data_config, k) for k in ("mean", "std", "interpolation", "crop_pct")})
    if job.data_config.labels:
        meta["labels"] = json.dumps(list(job.data_config.labels))
    mlmodel.save(str(out_path))
    return TargetResult(
        converter=Component("coremltools", installed("coremltools")),
        runtime=Component("coreml", None),
        input=inp_desc,
        output=out_desc,
        notes=[] if job.precision == "fp32" else ["Core ML computes in float16 on device"],
        quantizer=quant,
        fake_quant=fake,
        fake_quant_desc=fake_desc,
    )
