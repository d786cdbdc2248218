"""LiteRT (ai_edge_litert) runner with its default XNNPACK delegate."""
from __future__ import annotations

import numpy as np

from ..base import Runner, dequantize_output, quantize_input


class TFLiteRunner(Runner):
    runtime = "ai_edge_litert"

    def __init__(self, path, input_spec=None, threads: int | None = None, delegate: bool = True):
        """``delegate=False``: TFLite's own builtin kernels instead of XNNPACK, an independent
        implementation of the same integer arithmetic (INT8 parity's simulated reference)."""
        super().__init__(path, input_spec)
        from ai_edge_litert import __version__ as litert_version
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        resolver = OpResolverType.AUTO if delegate else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads,
                                       experimental_op_resolver_type=resolver)
        self.interpreter.allocate_tensors()
        self.inp = self.interpreter.get_input_details()[0]
        self.out = self.interpreter.get_output_details()[0]
        self.batch = int(self.inp["shape"][0])
        self.version = litert_version
        self.engine = f"ai_edge_litert {litert_version} " + ("(default XNNPACK delegate)" if delegate
                                                              else "(builtin kernels, no XNNPACK)")

    def _run_one(self, x: np.ndarray) -> np.ndarray:
        x = self._to_layout(x)
        dtype = self.inp["dtype"]
        if np.issubdtype(dtype, np.integer):
            scale, zp = self.inp["quantization"]
            x = quantize_input(x, scale, zp, dtype)
        self.interpreter.set_tensor(self.inp["index"], x)
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.out["index"])
        if np.issubdtype(y.dtype, np.integer):
            scale, zp = self.out["quantization"]
            y = dequantize_output(y, scale, zp)
        return y.astype(np.float32)

    def run_outputs(self, x: np.ndarray) -> list[np.ndarray]:
        self._run_one(x)
        outs = []
        for d in self.interpreter.get_output_details():
            y = self.interpreter.get_tensor(d["index"])
            if np.issubdtype(y.dtype, np.integer):
                y = dequantize_output(y, *d["quantization"])
            outs.append(np.asarray(y, np.float32))
        return outs
