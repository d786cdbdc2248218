"""Runs one artifact in the aarch64 build of its runtime, inside QEMU user-mode (``effmod validate --arch
arm64``). It is executed by the emulated arm64 Python, which has numpy and the runtime but neither torch
nor effmod: this file imports only the standard library, numpy and the runtime it is asked for.

    python3.11 worker.py JOB.json       JOB: {"runtime", "artifact", "inputs", "outputs", "layout", "threads"}

It prints one JSON line: the runtime's version and engine, the CPU features the emulated kernel reports
(AT_HWCAP/AT_HWCAP2, what XNNPACK's cpuinfo reads to choose kernels) and the seconds spent."""
from __future__ import annotations

import ctypes
import json
import sys
import time

import numpy as np

# arch/arm64/include/uapi/asm/hwcap.h
AT_HWCAP, AT_HWCAP2 = 16, 26
HWCAP = {"asimd": 1, "asimdhp": 10, "asimddp": 20, "sve": 22, "asimdfhm": 23}
HWCAP2 = {"sve2": 1, "svei8mm": 9, "i8mm": 13, "bf16": 14, "sme": 23, "sme2": 37}


def cpu_features() -> list[str]:
    getauxval = ctypes.CDLL(None).getauxval
    getauxval.restype = ctypes.c_ulong
    getauxval.argtypes = [ctypes.c_ulong]
    caps, caps2 = getauxval(AT_HWCAP), getauxval(AT_HWCAP2)
    return sorted([n for n, b in HWCAP.items() if caps >> b & 1] + [n for n, b in HWCAP2.items() if caps2 >> b & 1])


def _quantize(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def run_tflite(job: dict, x: np.ndarray):
    from ai_edge_litert import __version__ as version
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=job["artifact"], num_threads=job["threads"])
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    batch = int(inp["shape"][0])
    outs = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        if np.issubdtype(inp["dtype"], np.integer):
            xb = _quantize(xb, *inp["quantization"], inp["dtype"])
        it.set_tensor(inp["index"], xb)
        it.invoke()
        y = it.get_tensor(out["index"])
        if np.issubdtype(y.dtype, np.integer):
            scale, zp = out["quantization"]
            y = (y.astype(np.float32) - zp) * scale
        outs.append(np.asarray(y, np.float32))
    return outs, version, f"ai_edge_litert {version} aarch64 (default XNNPACK delegate)"


def run_onnx(job: dict, x: np.ndarray):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = job["threads"]
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(job["artifact"], opts, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    batch = inp.shape[0] if isinstance(inp.shape[0], int) else len(x)
    outs = [session.run(None, {inp.name: x[i:i + batch]})[0].astype(np.float32) for i in range(0, len(x), batch)]
    return outs, ort.__version__, f"onnxruntime {ort.__version__} aarch64 CPUExecutionProvider"


def run_executorch(job: dict, x: np.ndarray):
    import torch
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(job["artifact"]).load_method("forward")
    batch = int(tuple(method.metadata.input_tensor_meta(0).sizes())[0])
    outs = [method.execute([torch.from_numpy(np.ascontiguousarray(x[i:i + batch]))])[0].float().numpy()
            for i in range(0, len(x), batch)]
    from importlib.metadata import version

    v = version("executorch")
    return outs, v, f"executorch {v} aarch64 (XNNPACK)"


RUNTIMES = {"litert": run_tflite, "onnxruntime": run_onnx, "executorch": run_executorch}


def main(path: str) -> None:
    job = json.loads(open(path).read())
    x = np.load(job["inputs"]).astype(np.float32)
    if job["layout"] == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    t0 = time.perf_counter()
    outs, version, engine = RUNTIMES[job["runtime"]](job, x)
    seconds = time.perf_counter() - t0
    np.save(job["outputs"], np.concatenate(outs, axis=0))
    print(json.dumps({"runtime_version": version, "engine": engine, "features": cpu_features(),
                      "seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main(sys.argv[1])
