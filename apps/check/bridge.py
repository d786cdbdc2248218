"""The real runtime behind the JVM check's LiteRT/ExecuTorch stand-ins: run MODEL on the raw input bytes
the app built and write the raw output bytes (and, for TFLite, the output's scale and zero point).

    python bridge.py tflite|executorch MODEL IN.bin OUT.bin THREADS [INPUT_DTYPE]

INPUT_DTYPE (TFLite): the element type the app wrote; a model whose input is another type refuses it,
as LiteRT does. The output's dtype goes beside OUT.bin (.dtype), with its scale and zero point (.quant).
"""
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    runtime, model, inp, out, threads = sys.argv[1:6]
    wrote = sys.argv[6] if len(sys.argv) > 6 else ""
    data = Path(inp).read_bytes()
    if runtime == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=model, num_threads=int(threads) if int(threads) > 0 else None)
        it.allocate_tensors()
        d, o = it.get_input_details()[0], it.get_output_details()[0]
        if wrote and np.dtype(d["dtype"]).name != wrote:
            raise SystemExit(f"bridge.py: the app wrote {wrote} into a {np.dtype(d['dtype']).name} input")
        x = np.frombuffer(data, dtype=d["dtype"]).reshape(d["shape"])  # refuses a buffer of the wrong size
        it.set_tensor(d["index"], x)
        it.invoke()
        y = it.get_tensor(o["index"])
        scale, zp = o["quantization"]
        Path(out).with_suffix(".quant").write_text(f"{scale} {zp}\n")
        Path(out).with_suffix(".dtype").write_text(f"{y.dtype.name}\n")
    else:
        import torch
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(model).load_method("forward")
        x = torch.from_numpy(np.frombuffer(data, dtype="<f4").copy()).reshape(1, 3, *_hw(len(data) // 12))
        y = method.execute([x])[0].numpy()
    Path(out).write_bytes(np.ascontiguousarray(y).tobytes())


def _hw(pixels: int) -> tuple[int, int]:
    side = int(round(pixels ** 0.5))
    if side * side != pixels:
        raise SystemExit(f"bridge.py: {pixels} pixels is not a square image")
    return side, side


if __name__ == "__main__":
    main()
