"""onnxruntime runner (CPU execution provider)."""
from __future__ import annotations

import numpy as np

from ...machine import u8s8_saturates
from ..base import Runner


def _has_qdq(path) -> bool:
    """Whether the graph has integer kernels for ORT to fuse (QDQ pairs or QLinear ops)."""
    import onnx

    ops = {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
    return "QuantizeLinear" in ops or any(o.startswith("QLinear") for o in ops)


class OnnxRunner(Runner):
    runtime = "onnxruntime"

    def __init__(self, path, input_spec=None, threads: int | None = None, spinning: bool = True,
                 optimize: bool = True, exact_int8: bool = True):
        """``spinning=False`` stops idle intra-op threads from busy-waiting. Needed when several sessions
        share a process: measured on xxs, three interleaved spinning sessions ran at 22.5 ms against
        11.2 ms without spinning (one session alone: 7.5 ms spinning, 10.5 ms not).
        ``optimize=False`` runs the graph as written (no fusion): a QDQ model then executes its
        QuantizeLinear/DequantizeLinear pairs around float ops, i.e. simulates INT8 in float, while the
        optimized session fuses them into integer kernels. That is INT8 parity's simulated reference.
        ``exact_int8``: on x86 CPUs without VNNI, ORT's default U8S8 kernels saturate (``u8s8_saturates``);
        ``session.x64quantprecision=1`` makes ORT run them as exact U8U8 there (no effect elsewhere), so
        parity and timings are of the computation the graph describes, as on a phone's ARM kernels."""
        super().__init__(path, input_spec)
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        if not spinning:
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if not optimize:
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        if exact_int8:
            opts.add_session_config_entry("session.x64quantprecision", "1")
        self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        self._opts = opts
        self._tapped: dict[tuple, tuple] = {}
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        self.version = ort.__version__
        self.engine = f"onnxruntime {ort.__version__} CPUExecutionProvider" + ("" if optimize else ", optimizations off")
        # only where it matters, so the graph is read again only on such CPUs
        self._exact_on_this_cpu = exact_int8 and optimize and u8s8_saturates() and _has_qdq(self.path)
        if self._exact_on_this_cpu:
            self.engine += ", exact U8U8 INT8 kernels (this CPU has no VNNI)"

    def _run_one(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: self._to_layout(x)})[0].astype(np.float32)

    def host_notes(self, x: np.ndarray, out: np.ndarray) -> list[str]:
        """On a CPU whose default U8S8 kernels saturate: how far ORT's default session is from ``out``
        (measured on the same images), so an x86 deployment knows it needs the session option."""
        if not self._exact_on_this_cpu:
            return []
        from ...parity import compare

        fast = OnnxRunner(self.path, self.input_spec, threads=self._opts.intra_op_num_threads or None,
                          exact_int8=False)
        m = compare(out, fast(x))
        return [f"this x86 CPU has no VNNI: onnxruntime's default U8S8 INT8 kernels saturate here (vpmaddubsw). "
                f"effmod runs them exactly (session option session.x64quantprecision=1); a default session "
                f"on this CPU gives SQNR {m.sqnr_db:.1f} dB, top-1 {m.top1_agreement:.0%} against that. "
                f"Phones' ARM kernels do not saturate (--arch arm64 checks them); x86 deployments without "
                f"VNNI need the option"]

    def intermediates(self, x: np.ndarray, candidates: dict[str, list[str]]) -> dict[str, np.ndarray]:
        """Runs a copy of the graph with the chosen tensors added as outputs (same session options, so the
        same kernels and fusions as the artifact, except that an output cannot be fused away)."""
        key = tuple(sorted((k, tuple(v)) for k, v in candidates.items()))
        if key not in self._tapped:
            import onnx
            import onnxruntime as ort

            model = onnx.load(str(self.path))
            produced = {o for node in model.graph.node for o in node.output}
            chosen = {k: next((c for c in names if c in produced), None) for k, names in candidates.items()}
            chosen = {k: v for k, v in chosen.items() if v is not None}
            existing = {o.name for o in model.graph.output}
            for name in dict.fromkeys(chosen.values()):
                if name not in existing:
                    model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
            session = ort.InferenceSession(model.SerializeToString(), self._opts, providers=["CPUExecutionProvider"])
            self._tapped[key] = (session, chosen)
        session, chosen = self._tapped[key]
        names = list(dict.fromkeys(chosen.values()))
        values = dict(zip(names, session.run(names, {self.input_name: self._to_layout(x)})))
        return {k: np.asarray(values[v], np.float32) for k, v in chosen.items()}
