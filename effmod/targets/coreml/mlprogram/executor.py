"""Run a loaded ML program op by op with torch kernels, honouring the dtypes the program declares.

fp16: every op's result is rounded to float16 when the program declares a float16 output — as the
device stores it — so overflow (inf) and precision loss appear here as on a phone. Kernels
accumulate in float32 (GPU/ANE accumulate wider than fp16). The first op whose output becomes
non-finite is recorded so an fp16 overflow names where it starts."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ....errors import EffmodError
from .batching import Batching, analyse
from .ops import KERNELS, SPECS, Ctx
from .program import Op, Program

TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64,
                "int8": torch.int8, "uint8": torch.uint8, "int16": torch.int16, "int32": torch.int32,
                "int64": torch.int64, "bool": torch.bool, "uint16": torch.int32, "uint32": torch.int64,
                "int4": torch.int8, "uint4": torch.uint8, "uint1": torch.uint8, "uint2": torch.uint8,
                "uint3": torch.uint8, "uint6": torch.uint8}
_FLOAT = (torch.float16, torch.float32, torch.float64)


class UnsupportedOp(EffmodError):
    pass


class ExecutionError(EffmodError):
    pass


@dataclass
class NonFinite:
    op: str           # Op.where()
    kind: str         # "inf", "nan" or "fp16 overflow of ... inside the op"
    from_finite: bool  # True when every input was finite: this op created it (e.g. fp16 overflow)


@dataclass
class RunStats:
    seconds: float = 0.0
    non_finite: list[NonFinite] = field(default_factory=list)
    per_type_seconds: dict[str, float] = field(default_factory=dict)


def to_torch(value, dtype: str | None = None):
    if isinstance(value, (str, list)) or (isinstance(value, np.ndarray) and value.dtype == object):
        return value
    arr = np.asarray(value)
    if arr.dtype == np.uint16 or arr.dtype == np.uint32:
        arr = arr.astype(np.int64)
    return torch.from_numpy(np.array(arr, copy=True))


def all_finite(t: torch.Tensor) -> bool:
    """Whether every element is finite, in one reduction: a float32 sum is finite when all elements are
    (inf and nan propagate); only a sum that overflowed from finite values needs the exact look. Twice
    as fast as isfinite().all(), which allocates a mask the size of the tensor: this runs on every op."""
    if math.isfinite(float(t.sum(dtype=torch.float32 if t.dtype != torch.float64 else torch.float64))):
        return True
    return bool(torch.isfinite(t).all())


def _batched(shape, batch: int) -> tuple:
    shape = tuple(shape)
    return (shape[0] * batch, *shape[1:]) if batch > 1 and shape else shape


def _runtime_dtype(t, info_dtype: str):
    target = TORCH_DTYPES.get(info_dtype)
    if target is None or not isinstance(t, torch.Tensor) or t.dtype == target:
        return t
    return t.to(target)


class Executor:
    """Check once that every op has a kernel, precompute constants (``const`` and ``constexpr_*``,
    which the device also decompresses at load time), then ``run(feeds)`` any number of times."""

    def __init__(self, program: Program, profile: bool = False):
        self.program = program
        self.profile = profile
        self._check_supported()
        self.consts: dict[str, object] = {}
        self.ops: list[Op] = []
        for op in program.ops:
            if op.type == "const":
                self.consts[op.name] = _runtime_dtype(to_torch(op.attrs["val"]), op.outputs[0][1].dtype)
            elif op.type.startswith("constexpr_"):
                outs = self._execute(op, self.consts)
                self.consts.update(outs)
            else:
                self.ops.append(op)
        self.last_stats = RunStats()
        self.batching: Batching = analyse(program)
        # Each intermediate is dropped after its last reader: a batch of 64 images at 224 px would
        # otherwise hold every activation of the network at once.
        self._last_use: dict[int, list[str]] = {}
        last: dict[str, int] = {}
        for i, op in enumerate(self.ops):
            for bindings in op.inputs.values():
                for kind, ref in bindings:
                    if kind == "var" and ref not in self.consts:
                        last[ref] = i
        for name, i in last.items():
            if name not in program.outputs:
                self._last_use.setdefault(i, []).append(name)

    def _check_supported(self) -> None:
        """Every op against its declared spec (ops/registry.py), once, before any run."""
        bad = [op for op in self.program.ops if op.has_blocks or (op.type != "const" and op.type not in KERNELS)]
        if bad:
            kinds = sorted({op.type for op in bad})
            first = bad[0]
            raise UnsupportedOp(
                f"ML program op '{first.type}' is not supported by effmod's executor: {first.where()}"
                + (f" (and {len(bad) - 1} more: {', '.join(kinds)})" if len(bad) > 1 else ""),
                hint="run this model on macOS with Core ML, or open an effmod issue with the op type")
        ios = self.program.ios_version
        for op in self.program.ops:
            spec = SPECS.get(op.type)
            if spec is None:
                continue
            if not spec.exists_in(ios):
                raise UnsupportedOp(f"{op.where()}: MIL op '{op.type}' exists from iOS{spec.since} on, but this "
                                    f"program's opset is {self.program.opset} (iOS{ios})",
                                    hint="the program is malformed: re-convert it with coremltools")
            unknown = [n for n in op.inputs if n not in spec.inputs]
            missing = [n for n in spec.required if n not in op.inputs and n not in op.attrs]
            if unknown or missing:
                what = f"input(s) {', '.join(unknown)} that its kernel does not declare" if unknown else \
                    f"no value for required input(s) {', '.join(missing)}"
                raise UnsupportedOp(f"{op.where()}: MIL op '{op.type}' has {what}",
                                    hint="open an effmod issue with the op type: its declaration needs updating")

    def _gather_args(self, op: Op, env: dict) -> dict:
        args = {}
        for name, bindings in op.inputs.items():
            vals = []
            for kind, ref in bindings:
                if kind == "var":
                    if ref not in env:
                        raise ExecutionError(f"{op.where()}: input '{name}' refers to '{ref}', which no earlier op produced")
                    v = env[ref]
                else:
                    v = to_torch(ref)
                if isinstance(v, torch.Tensor) and v.dtype == torch.float16:
                    v = v.float()  # compute in float32; the result is rounded back below
                vals.append(v)
            args[name] = vals if name in SPECS[op.type].variadic or len(vals) > 1 else vals[0]
        for name, v in op.attrs.items():  # iOS16/17 constexpr ops carry their operands as attributes
            if name not in args:
                args[name] = to_torch(v)
        return args

    def _execute(self, op: Op, env: dict, stats: RunStats | None = None, batch: int = 1) -> dict:
        args = self._gather_args(op, env)
        ctx = Ctx(op, any(info.dtype == "float16" for _, info in op.outputs), self.program.ios_version, batch)
        try:
            result = KERNELS[op.type](ctx, **args)
        except Exception as e:  # noqa: BLE001 - a kernel failure names the op it happened in
            raise ExecutionError(f"{op.where()} failed: {type(e).__name__}: {e}") from e
        if stats is not None:
            stats.non_finite.extend(NonFinite(op.where(), f"fp16 overflow of {what} inside the op", True)
                                    for what in ctx.overflows)
        results = result if isinstance(result, tuple) else (result,)
        if len(results) != len(op.outputs):
            raise ExecutionError(f"{op.where()}: kernel returned {len(results)} outputs, program declares {len(op.outputs)}")
        out = {}
        for (name, info), value in zip(op.outputs, results):
            value = _runtime_dtype(value, info.dtype)
            if info.shape is not None and isinstance(value, torch.Tensor) and all(d is not None for d in info.shape) \
                    and tuple(value.shape) != _batched(info.shape, batch):
                scaled = f" (x{batch} for this batch)" if batch > 1 else ""
                raise ExecutionError(f"{op.where()}: computed shape {tuple(value.shape)} but the program declares "
                                     f"{tuple(info.shape)}{scaled} for '{name}'")
            out[name] = value
        return out

    def run(self, feeds: dict[str, np.ndarray], keep: set[str] | None = None) -> dict[str, np.ndarray]:
        """Execute the program; returns its outputs (and any intermediate named in ``keep``) as numpy."""
        env = dict(self.consts)
        batch = 1
        for name, info in self.program.inputs.items():
            if name not in feeds:
                raise ExecutionError(f"missing input '{name}'", hint=f"the program's inputs: {list(self.program.inputs)}")
            t = torch.from_numpy(np.ascontiguousarray(feeds[name]))
            want = tuple(info.shape or ())
            if want and all(d is not None for d in want) and tuple(t.shape) != want:
                batch = self._batch_of(name, tuple(t.shape), want)
            env[name] = _runtime_dtype(t, info.dtype)
        stats = RunStats()
        t_start = time.perf_counter()
        keep = set(keep or ())
        with torch.inference_mode():
            for i, op in enumerate(self.ops):
                t0 = time.perf_counter() if self.profile else 0.0
                produced = self._execute(op, env, stats, batch)
                if self.profile:
                    stats.per_type_seconds[op.type] = stats.per_type_seconds.get(op.type, 0.0) + time.perf_counter() - t0
                for name, v in produced.items():
                    if isinstance(v, torch.Tensor) and v.dtype in _FLOAT and not all_finite(v):
                        if len(stats.non_finite) < 20:
                            stats.non_finite.append(NonFinite(op.where(), "nan" if bool(torch.isnan(v).any()) else "inf",
                                                              self._inputs_finite(op, env)))
                env.update(produced)
                for dead in self._last_use.get(i, ()):
                    if dead not in keep:
                        env.pop(dead, None)
        stats.seconds = time.perf_counter() - t_start
        self.last_stats = stats
        names = list(self.program.outputs) + sorted(keep or ())
        return {n: env[n].float().numpy() if env[n].dtype == torch.float16 else env[n].numpy() for n in names}

    def _batch_of(self, name: str, got: tuple, want: tuple) -> int:
        """k when ``got`` is k times the declared batch of ``want`` and the program can run it in one pass."""
        k, rest = divmod(got[0], want[0]) if got and want[0] else (0, 1)
        if rest or k < 2 or got[1:] != want[1:]:
            raise ExecutionError(f"input '{name}' has shape {got}, the program expects {want}")
        if not self.batching.ok:
            raise ExecutionError(f"input '{name}' holds {k} batches of {want[0]}, but this program cannot run them "
                                 f"in one pass: {self.batching.reason}", hint="feed one batch at a time")
        return k

    @staticmethod
    def _inputs_finite(op: Op, env: dict) -> bool:
        for bindings in op.inputs.values():
            for kind, ref in bindings:
                v = env.get(ref) if kind == "var" else None
                if isinstance(v, torch.Tensor) and v.dtype in _FLOAT and not all_finite(v):
                    return False
        return True
