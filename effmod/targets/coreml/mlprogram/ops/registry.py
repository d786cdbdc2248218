"""The op registry of effmod's ML-program executor, after coremltools' ``mil/ops/defs`` + ``registry.py``:
every kernel is declared with its op type, its inputs (from its signature: required ones have no
default), the inputs that take a list of tensors, and the iOS opset that introduced it. A second kernel
for the same op type is refused. The executor checks a program against these declarations once, at load.

Kernels compute in float32 on float inputs; the executor rounds each result to the dtype the program
declares for it (float16 in fp16 programs), which is how the device's fp16 arithmetic shows up here.
Where an op's *internal* intermediates overflow in fp16 on a device (squares inside a norm), the kernel
rounds those intermediates too when ``ctx.fp16`` is set."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

IOS_OPSETS = (15, 16, 17, 18)  # the opsets coremltools 9 writes (iOS15 = Core ML 5)


@dataclass(frozen=True)
class OpSpec:
    name: str
    kernel: Callable
    required: tuple[str, ...]          # inputs without a default
    optional: tuple[str, ...]
    variadic: frozenset[str]           # inputs that take a list of tensors (concat's values)
    since: int                         # the iOS opset that introduced the op

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.required + self.optional

    def exists_in(self, ios: int) -> bool:
        return ios >= self.since


SPECS: dict[str, OpSpec] = {}
KERNELS: dict[str, Callable] = {}   # op type -> kernel, what the executor calls


def declare(name: str, fn: Callable, variadic: tuple[str, ...] = (), since: int = 15) -> OpSpec:
    """Register ``fn`` as the kernel of op type ``name``. Its parameters after ``ctx`` are the op's inputs."""
    if name in SPECS:
        raise ValueError(f"MIL op '{name}' already has a kernel ({SPECS[name].kernel.__qualname__}); "
                         "one op type, one kernel")
    if since not in IOS_OPSETS:
        raise ValueError(f"MIL op '{name}': since={since} is not one of the opsets {IOS_OPSETS}")
    params = list(inspect.signature(fn).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        raise ValueError(f"MIL op '{name}': declare its inputs as parameters, not **kwargs")
    unknown = set(variadic) - {p.name for p in params}
    if unknown:
        raise ValueError(f"MIL op '{name}': variadic input(s) {sorted(unknown)} are not parameters of its kernel")
    required = tuple(p.name for p in params if p.default is p.empty)
    optional = tuple(p.name for p in params if p.default is not p.empty)
    spec = OpSpec(name, fn, required, optional, frozenset(variadic), since)
    SPECS[name] = spec
    KERNELS[name] = fn
    return spec


def kernel(*names: str, variadic: tuple[str, ...] = (), since: int = 15):
    """Decorator form of ``declare`` (one kernel may serve several op types, e.g. argmax/argmin)."""
    def deco(fn):
        for n in names:
            declare(n, fn, variadic, since)
        return fn
    return deco


class Ctx:
    """Per-op context: ``fp16`` is True when the op's declared output is float16; ``ios`` is the
    program's deployment target (15 for iOS15/CoreML5, ...), for ops whose meaning changed."""

    __slots__ = ("op", "fp16", "overflows", "ios", "batch")

    def __init__(self, op, fp16: bool, ios: int = 17, batch: int = 1):
        self.op, self.fp16, self.ios = op, fp16, ios
        self.batch = batch  # k: this run holds k times the program's declared batch (see batching.py)
        self.overflows: list[str] = []  # fp16 intermediates that overflowed inside this op

    def check(self, t: torch.Tensor, what: str) -> torch.Tensor:
        if self.fp16 and not bool(torch.isfinite(t).all()):  # only inside norms: a few ops a run
            self.overflows.append(what)
        return t


def ints(v) -> list[int]:
    if isinstance(v, torch.Tensor):
        return [int(i) for i in v.reshape(-1).tolist()]
    return [int(i) for i in np.asarray(v).reshape(-1)]


def num(v):
    return v.item() if isinstance(v, torch.Tensor) else v


def r16(t: torch.Tensor, on: bool) -> torch.Tensor:
    """Round to float16 and back (inf past ±65504) when emulating fp16 intermediates."""
    return t.to(torch.float16).float() if on else t


def axis_of(a: int, rank: int) -> int:
    return a + rank if a < 0 else a
