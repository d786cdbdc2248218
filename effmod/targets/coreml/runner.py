"""Core ML runner. On macOS it runs coremltools' ``predict`` (Core ML itself); elsewhere it runs
effmod's ML-program executor over the same ``.mlpackage`` (spec + weight blob, fp16 per-op
rounding). ``engine`` says which one ran; on macOS ``cross_check`` compares the two."""
from __future__ import annotations

import numpy as np

from ...errors import EffmodError
from ...eval.metrics import TensorStats, compare
from ...versions import coreml_predict_available, installed
from ..base import OpRow, Runner

EXECUTOR_ENGINE = "effmod ML-program executor"
COREML_ENGINE = "Core ML (macOS)"


# Images in one executor pass: 8 at 224 px, 98 at 64 px. Measured on xxs (2 threads): images/s rises to
# about this many pixels a pass and falls beyond it, when the activations outgrow the caches.
MAX_BATCH_PIXELS = 8 * 224 * 224
# A batched pass must agree with single passes at least this well (fp16 programs: the kernels' batched
# accumulation order differs; a pass that mixed images up scores below 10 dB).
BATCH_AGREEMENT_DB = 40.0


class CoreMLUnavailable(EffmodError):
    pass


class _BatchingOff(Exception):
    """Raised once when the first batched pass disagrees: the call is repeated one batch at a time."""


class CoreMLRunner(Runner):
    runtime = "coreml"
    batching = "one image a call (Core ML itself)"

    def __init__(self, path, input_spec=None, threads: int | None = None, engine: str = "auto",
                 compute_units: str = "ALL", batching: bool = True):
        """``engine``: "auto" (Core ML on macOS, the executor elsewhere), "coreml" or "executor".
        ``batching``: let the executor run many images a pass where the program allows it."""
        super().__init__(path, input_spec)
        if engine not in ("auto", "coreml", "executor"):
            raise EffmodError(f"unknown Core ML engine '{engine}'", hint="use auto, coreml or executor")
        if engine == "auto":
            engine = "coreml" if coreml_predict_available() else "executor"
        if engine == "coreml" and not coreml_predict_available():
            raise CoreMLUnavailable("Core ML prediction is macOS-only",
                                    hint="use engine='executor' (effmod's ML-program executor) on this platform")
        from .mlprogram import Executor, load_program

        self.program = load_program(self.path)
        (self.input_name, self.input_info), = self.program.inputs.items()
        self.output_name = self.program.outputs[0]
        self.executor = None
        self.model = None
        self.non_finite = []
        self.version = installed("coremltools")
        if engine == "coreml":
            import coremltools as ct

            self.model = ct.models.MLModel(str(self.path), compute_units=getattr(ct.ComputeUnit, compute_units))
            self.engine = f"{COREML_ENGINE}, compute units {compute_units}"
        else:
            if threads:
                import torch

                torch.set_num_threads(threads)
            try:
                self.executor = Executor(self.program)
            except EffmodError as e:  # the executor names the op; the user needs the package too
                raise EffmodError(f"{self.path}: {e.message}", hint=e.hint) from None
            self.engine = EXECUTOR_ENGINE
            self._plan_batching(batching)

    @property
    def is_image_input(self) -> bool:
        return self.program.description["inputs"].get(self.input_name) == "imageType"

    def _feed(self, x: np.ndarray) -> np.ndarray:
        if self.is_image_input:
            # The model takes RGB pixels (0..255) and normalises in-graph: undo the caller's normalisation.
            spec = self.input_spec
            if spec is None or spec.mean is None or spec.std is None:
                raise EffmodError(f"{self.path.name} takes an RGB image, but its manifest has no mean/std",
                                  hint="re-export it with this effmod version so the manifest carries them")
            mean = np.asarray(spec.mean, np.float32).reshape(1, 3, 1, 1)
            std = np.asarray(spec.std, np.float32).reshape(1, 3, 1, 1)
            x = (x * std + mean) * 255.0
        return x.astype(np.float16 if self.input_info.dtype == "float16" else np.float32)

    def _plan_batching(self, wanted: bool) -> None:
        """Many images in one executor pass where the program allows it (batching.py), else one at a time.
        ``batching`` says which, and why not."""
        plan = self.executor.batching
        self.declared_batch = plan.declared
        self._verified = False
        shape = self.input_info.shape
        if not wanted or not plan.ok or shape is None or len(shape) != 4:
            reason = "not asked for" if not wanted else plan.reason or "the input is not an NCHW image"
            self.batching = f"off: {reason}"
            self.batch = plan.declared
            return
        k = max(1, MAX_BATCH_PIXELS // (plan.declared * int(shape[2]) * int(shape[3])))
        self.batch = plan.declared * k
        self.batching = f"{self.batch} images a pass"

    def _run_one(self, x: np.ndarray) -> np.ndarray:
        if self.executor is not None and len(x) != self.declared_batch:
            return self._run_batched(x)
        return self._run_single(x)

    def _run_batched(self, x: np.ndarray) -> np.ndarray:
        n, b = len(x), self.declared_batch
        if n % b:  # a short last chunk is padded to whole batches; the padding's outputs are dropped
            x = np.concatenate([x, np.repeat(x[-1:], b - n % b, axis=0)])
        if self._verified:
            return self._run_single(x)[:n]
        from .mlprogram.executor import ExecutionError

        try:
            out = self._run_single(x)
        except ExecutionError as e:  # e.g. a constant that broadcasts over one image only
            self._batching_off(f"a batched pass failed ({e})")
        self._verify(x, out)
        return out[:n]

    def _batching_off(self, why: str):
        self._verified = True
        self.batching = f"off: {why}; running one batch at a time"
        self.batch = self.declared_batch
        raise _BatchingOff()

    def _verify(self, x: np.ndarray, batched: np.ndarray) -> None:
        """Once: the first images of the first batched pass must match single passes, or batching is off
        (a proof in batching.py that was wrong would cost speed, never accuracy)."""
        self._verified = True
        b = self.declared_batch
        single = np.concatenate([self._run_single(x[i:i + b]) for i in range(0, min(len(x), 2 * b), b)])
        got = batched[:len(single)]
        cmp = compare(single, got)
        if not (np.array_equal(single.argmax(1), got.argmax(1)) and cmp.sqnr_db >= BATCH_AGREEMENT_DB):
            self._batching_off(f"a batched pass disagreed with single passes ({cmp.sqnr_db:.1f} dB)")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        try:
            return super().__call__(x)
        except _BatchingOff:
            return super().__call__(x)

    def _run_single(self, x: np.ndarray) -> np.ndarray:
        feed = self._feed(x)
        if self.model is not None:
            if self.is_image_input:
                from PIL import Image

                pixels = np.clip(np.round(feed[0].transpose(1, 2, 0)), 0, 255).astype(np.uint8)
                out = self.model.predict({self.input_name: Image.fromarray(pixels)})[self.output_name]
            else:
                out = self.model.predict({self.input_name: feed})[self.output_name]
            return np.asarray(out, np.float32)
        out = self.executor.run({self.input_name: feed})[self.output_name]
        self.non_finite.extend(self.executor.last_stats.non_finite)
        return out.astype(np.float32)

    def cross_check(self, x: np.ndarray) -> dict:
        """macOS: run Core ML and the executor on the same input and compare (executor as reference)."""
        if self.model is None:
            raise CoreMLUnavailable("cross-checking needs Core ML itself (macOS)")
        from .mlprogram import Executor

        executor = Executor(self.program)
        ours = np.concatenate([executor.run({self.input_name: self._feed(x[i:i + 1])})[self.output_name]
                               for i in range(len(x))]).astype(np.float32)
        return compare(ours, self(x))

    def mil_names(self, candidates: dict[str, list[str]]) -> dict[str, str]:
        """MIL op outputs carry the PyTorch graph's node names, with a suffix where coremltools inserted a
        cast or a quantize step (``add_4_cast_fp16``): the first op output named so, in program order."""
        outputs = [(op.index, name) for op in self.program.ops if op.type != "const" for name, _ in op.outputs]
        chosen = {}
        for key, names in candidates.items():
            for c in names:
                hit = next((n for _, n in outputs if n == c or n.startswith(c + "_cast") or n.startswith(c + "_to_")),
                           None)
                if hit is not None:
                    chosen[key] = hit
                    break
        return chosen

    def intermediates(self, x: np.ndarray, candidates: dict[str, list[str]]) -> dict[str, np.ndarray]:
        if self.executor is None:
            raise EffmodError("intermediate tensors come from effmod's executor, not from Core ML itself",
                              hint="open the runner with engine='executor'")
        chosen = self.mil_names(candidates)
        out = self.executor.run({self.input_name: self._feed(x)}, keep=set(chosen.values()))
        return {k: np.asarray(out[v], np.float32) for k, v in chosen.items()}

    def op_report(self, x: np.ndarray, reference: list[dict[str, np.ndarray]],
                  modules: dict[str, str]) -> tuple[list[OpRow], str | None]:
        """Every MIL op against the PyTorch node it was converted from (same name, less a cast suffix), in
        program order: per op its SQNR over the images and what it lost against its worst input; and the
        first op that made a non-finite value from finite inputs. ``reference``: per image, the PyTorch
        graph's node values; ``modules``: node name -> the PyTorch module it belongs to."""
        if self.executor is None:
            raise EffmodError("the op-level view comes from effmod's executor, not from Core ML itself",
                              hint="open the runner with engine='executor'")
        by_name = {}
        for op in self.executor.ops:
            name = op.outputs[0][0]
            base = name.replace("_cast_fp16", "").replace("_cast_fp32", "")
            if base in reference[0]:
                by_name[name] = base
        stats = {n: TensorStats() for n in by_name}
        first_nf = None
        for k in range(len(x)):
            got = self.executor.run({self.input_name: self._feed(x[k:k + 1])}, keep=set(by_name))
            for n, base in by_name.items():
                if got[n].shape == reference[k][base].shape:
                    stats[n].add(reference[k][base], got[n])
            created = [e for e in self.executor.last_stats.non_finite if e.from_finite]
            if created and first_nf is None:
                first_nf = f"{created[0].op}: {created[0].kind} (image {k})"
        sq = {n: s.sqnr_db for n, s in stats.items() if s.signal > 0}
        rows = []
        for op in self.executor.ops:
            name = op.outputs[0][0]
            if name not in sq:
                continue
            inputs = [sq[r] for bindings in op.inputs.values() for kind, r in bindings if kind == "var" and r in sq]
            drop = (min(inputs) - sq[name]) if inputs else None
            rows.append(OpRow(op.index, op.type, name, modules.get(by_name[name], ""), round(sq[name], 2),
                              stats[name].max_abs, None if drop is None else round(drop, 2)))
        return rows, first_nf


def cannot_time_here() -> str | None:
    """The ML-program executor checks numbers; its speed says nothing about Core ML on a device."""
    if coreml_predict_available():
        return None
    return "Core ML runs only on macOS/iOS; time it on a Mac or with the iOS demo app"
