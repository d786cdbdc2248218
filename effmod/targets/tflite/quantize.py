"""TFLite INT8 with ai-edge-quantizer (static range, MIN_MAX, per-channel weights) applied to the fp32
.tflite that litert-torch converted from the deploy form. litert-torch 0.10's own PT2E path was
measured unusable here: with folded weights its converter fails ('uniform_dequantize ... got i8'),
unfolded it emits float convs between QUANTIZE/DEQUANTIZE pairs that XNNPACK does not take.

Recipe, measured on xxs at 224 (2 threads): INT8 CONV_2D, float I/O. That keeps one fully delegated
XNNPACK partition, runs 1.38× faster than fp32 and gives 36.7 dB SQNR. Quantizing everything gave 65
partitions (XNNPACK has no INT8 GELU/RSQRT/softmax/batch-matmul) and ran 0.71× as fast. Also quantizing
FULLY_CONNECTED (the head) dropped SQNR to 21 dB.
Plus the modulation multiplies (``int8_products``): a product of two activations, one a conv output, that
only convs consume. In INT8 the conv after it reads its INT8 output directly and the conv before it (g)
feeds it without a dequantize: 0.92× the time (4.48 vs 4.89 ms, interleaved), SQNR unchanged (37.5 dB
on 32 CIFAR images). The norms' multiplies stay float (quantizing them too measured no faster).
Plus PAD: litert-torch writes the patch-embedding convs' padding as PAD + VALID conv. With PAD in float the
graph runs PAD -> QUANTIZE -> conv; with PAD in INT8 (zero padding is exact in INT8: it pads with the zero
point) the QUANTIZE moves before it and the pad is no longer a float pass of its own: 0.91× the time
(4.06 vs 4.45 ms, interleaved), SQNR unchanged."""
from __future__ import annotations

from pathlib import Path

import numpy as np

DEFAULT_OPS = ("CONV_2D", "PAD")
WEIGHT_ONLY_OPS = ("FULLY_CONNECTED", "DEPTHWISE_CONV_2D")


def int8_products(interpreter) -> list[str]:
    """Output tensor names of the MULs to run in INT8: both inputs activations, at least one a CONV_2D
    output, every consumer a CONV_2D. In the deploy form these are the modulation multiplies
    (fc1 branch × context); a channel norm's multiply (centred x × rsqrt) has no conv input.
    ``interpreter``: the float model, built without delegates (so its nodes are the original ops)."""
    from .graph import graph_nodes

    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    nodes = graph_nodes(interpreter)
    producer = {t: op for op, _, outs in nodes for t in outs}
    consumers: dict[int, list[str]] = {}
    for op, ins, _ in nodes:
        for t in ins:
            consumers.setdefault(t, []).append(op)
    picked = []
    for op, ins, outs in nodes:
        if op != "MUL" or len(ins) != 2 or len(outs) != 1 or not all(t in producer for t in ins):
            continue
        if "CONV_2D" in (producer[t] for t in ins) and set(consumers.get(outs[0], ["?"])) == {"CONV_2D"}:
            picked.append(names[outs[0]])
    return picked


def quantize_tflite(float_path: Path, out_path: Path, calib: np.ndarray, io: str = "float", ops=DEFAULT_OPS,
                    weight_only_ops=WEIGHT_ONLY_OPS) -> dict:
    """``io="int8"`` also quantizes the graph input and output (scale/zero point in the manifest).
    The multiplies that ``int8_products`` picks are quantized too."""
    import re

    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from ai_edge_quantizer import qtyping, quantizer, recipe_manager

    graph = Interpreter(model_path=str(float_path),
                        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    signatures = graph.get_signature_list()
    key = next(iter(signatures))
    input_name = signatures[key]["inputs"][0]
    rm = recipe_manager.RecipeManager()
    if io == "int8":
        ops = tuple(ops) + ("INPUT", "OUTPUT")
    for op in ops:
        rm.add_static_config(regex=".*", operation_name=getattr(qtyping.TFLOperationName, op),
                             activation_num_bits=8, weight_num_bits=8)
    mul_names = int8_products(graph)
    for name in mul_names:  # the recipe matches an op by its scope: output tensor names joined, ';'-terminated
        rm.add_static_config(regex=f"^{re.escape(name)};$", operation_name=qtyping.TFLOperationName.MUL,
                             activation_num_bits=8, weight_num_bits=8)
    for op in weight_only_ops:
        rm.add_weight_only_config(regex=".*", operation_name=getattr(qtyping.TFLOperationName, op), num_bits=8)
    q = quantizer.Quantizer(str(float_path))
    q.load_quantization_recipe(rm.get_quantization_recipe())
    calibration = q.calibrate({key: [{input_name: calib[i:i + 1]} for i in range(len(calib))]}, num_threads=2)
    result = q.quantize(calibration, enable_progress_report=False)
    result.export_model(str(out_path), overwrite=True)
    return {"tool": "ai-edge-quantizer", "scheme": "static range, MIN_MAX, INT8 weights per channel, INT8 activations",
            "quantized_ops": [o for o in ops if o not in ("INPUT", "OUTPUT")], "weight_only_ops": list(weight_only_ops),
            "int8_products": len(mul_names),
            "io": io}


def io_quantization(path: Path) -> tuple[dict, dict]:
    """(input, output) dtype and scale/zero point as the interpreter reports them."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    out = []
    for d in (it.get_input_details()[0], it.get_output_details()[0]):
        scale, zp = d["quantization"]
        entry = {"dtype": np.dtype(d["dtype"]).name}
        if entry["dtype"] == "int8":
            entry.update(scale=float(scale), zero_point=int(zp))
        out.append(entry)
    return out[0], out[1]
