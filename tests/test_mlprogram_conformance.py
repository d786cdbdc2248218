"""Op conformance of effmod's ML-program executor: every op it has a kernel for, built as single-op
programs with coremltools' MIL Builder, saved as real .mlpackage files and run by the executor, against
numpy references written here from the op definitions in coremltools 9.0 (``mil/ops/defs``).

Cases are generated with a seeded RNG (hypothesis-style, reproducible): ranks 1-5, broadcasting,
negative axes and indices, every attribute mode, and each dtype the op's definition allows (fp32, fp16,
int8/uint8/int16/uint16/int32, bool). Many cases share one program (one input each), so a few hundred
cases cost a few dozen conversions. ``test_every_kernel_is_covered`` keeps the table complete: a new
kernel without conformance cases fails it."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

ct = pytest.importorskip("coremltools", reason="coremltools not installed: pip install -e '.[coreml]'")
from coremltools.converters.mil import Builder as mb  # noqa: E402
from coremltools.converters.mil.mil import types  # noqa: E402
from coremltools.converters.mil.mil.ops.registry import SSAOpRegistry  # noqa: E402

from effmod.targets.coreml.mlprogram import KERNELS, Executor, load_program  # noqa: E402

NP = {"fp32": np.float32, "fp16": np.float16, "int8": np.int8, "uint8": np.uint8, "int16": np.int16,
      "uint16": np.uint16, "int32": np.int32, "bool": np.bool_}
FLOATS = ("fp32", "fp16")
IOS17 = ct.target.iOS17


def allowed_dtypes(op: str, domain: str = "T", target=IOS17) -> list[str]:
    """The dtypes an op's definition accepts (its ``type_domains``) at a deployment target."""
    versions = SSAOpRegistry.core_ops[op]
    cls = max(((v, c) for v, c in versions.items() if c is not None and v <= target), key=lambda vc: vc[0])[1]
    dom = getattr(cls, "type_domains", {}).get(domain)
    if dom is None:
        return list(FLOATS)
    return [types.builtin_to_string(t) for t in dom if types.builtin_to_string(t) in NP]


@dataclass
class Case:
    label: str
    build: Callable                      # build(**vars) -> Var or tuple of Vars
    expect: object                       # np.ndarray or tuple of them
    inputs: dict = field(default_factory=dict)   # program inputs (fp32/fp16/int32 arrays)
    consts: dict = field(default_factory=dict)   # other operands, embedded as const ops (any dtype)
    tol: float | None = None             # None: exact for ints/bools, dtype-based for floats


def _tol(arr: np.ndarray, tol):
    if tol is not None:
        return tol
    return 4e-3 if arr.dtype == np.float16 else 2e-5


def run_cases(tmp_path, cases: list[Case], target=IOS17) -> None:
    """Build all cases into one program, run it once in the executor, compare every op's own output."""
    names, arrays = [], []
    for i, c in enumerate(cases):
        for k, v in c.inputs.items():
            names.append(f"c{i}_{k}")
            arrays.append(v)
    specs = [mb.TensorSpec(shape=a.shape, dtype={np.float32: types.fp32, np.float16: types.fp16,
                                                 np.int32: types.int32}[a.dtype.type]) for a in arrays]
    watched: list[list[str]] = []

    def body(**kw):
        outs = []
        for i, c in enumerate(cases):
            vars_ = {k: kw[f"c{i}_{k}"] for k in c.inputs}
            vars_.update({k: mb.const(val=v, name=f"c{i}_const_{k}") for k, v in c.consts.items()})
            res = c.build(**vars_)
            res = res if isinstance(res, (tuple, list)) else (res,)
            watched.append([r.name for r in res])
            for r in res:  # program outputs must be fp16/fp32/int32; the op's own output is read via keep
                ok = types.builtin_to_string(r.dtype) in ("fp32", "fp16", "int32")
                outs.append(r if ok else mb.cast(x=r, dtype="fp32"))
        return tuple(outs)

    if not names:  # every operand const: the builder still needs one input
        names, arrays = ["unused"], [np.zeros(1, np.float32)]
        specs = [mb.TensorSpec(shape=(1,), dtype=types.fp32)]
    src = f"def prog({', '.join(names)}):\n    return body({', '.join(f'{n}={n}' for n in names)})\n"
    scope = {"body": lambda **kw: body(**{k: v for k, v in kw.items() if k != 'unused'})}
    exec(src, scope)  # noqa: S102 - a wrapper whose parameter names become the program's input names
    prog = mb.program(input_specs=specs, opset_version=target)(scope["prog"])
    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=target,
                       pass_pipeline=ct.PassPipeline.EMPTY, compute_precision=ct.precision.FLOAT32)
    path = tmp_path / f"conf{len(list(tmp_path.iterdir()))}.mlpackage"
    model.save(str(path))
    program = load_program(path)
    feeds = {n: a for n, a in zip(names, arrays) if n in program.inputs}
    keep = {n for w in watched for n in w}
    got = Executor(program).run(feeds, keep=keep)
    failures = []
    for c, outs in zip(cases, watched):
        expects = c.expect if isinstance(c.expect, tuple) else (c.expect,)
        for name, exp in zip(outs, expects):
            g, e = got[name], np.asarray(exp)
            if g.shape != e.shape:
                failures.append(f"{c.label}: shape {g.shape} != {e.shape}")
            elif e.dtype.kind in "fc":
                t = _tol(e, c.tol)
                if not np.allclose(g, e.astype(np.float64), rtol=t, atol=t, equal_nan=True):
                    failures.append(f"{c.label}: max |Δ| {np.nanmax(np.abs(g - e.astype(np.float64))):.3g} > {t:g}")
            elif not np.array_equal(g.astype(np.int64), e.astype(np.int64)):
                failures.append(f"{c.label}: {g.reshape(-1)[:8]} != {e.reshape(-1)[:8]}")
    assert not failures, "\n".join(failures)


# ----------------------------------------------------------------------------- generators
def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def rand_shape(g, rank: int, lo: int = 1, hi: int = 4) -> tuple[int, ...]:
    return tuple(int(d) for d in g.integers(lo, hi + 1, size=rank))


def values(g, shape, dtype: str, lo=-3.0, hi=3.0, nonzero=False):
    if dtype in FLOATS:
        v = g.uniform(lo, hi, size=shape)
        if nonzero:
            v = np.where(np.abs(v) < 0.25, 0.5, v)
        return v.astype(NP[dtype])
    if dtype == "bool":
        return g.integers(0, 2, size=shape).astype(np.bool_)
    info = np.iinfo(NP[dtype])
    lo_i, hi_i = max(info.min, -20), min(info.max, 20)
    v = g.integers(lo_i, hi_i + 1, size=shape)
    if nonzero:
        v = np.where(v == 0, 3, v)
    return v.astype(NP[dtype])


def broadcast_partner(g, shape):
    """A shape that broadcasts against ``shape``: some leading dims dropped, some dims set to 1."""
    drop = int(g.integers(0, len(shape)))
    tail = [1 if g.random() < 0.4 else d for d in shape[drop:]]
    return tuple(tail)


def operand(name: str, arr: np.ndarray, case: dict):
    """Program input where the dtype and rank allow it, const otherwise."""
    as_input = arr.dtype.type in (np.float32, np.float16, np.int32) and arr.ndim > 0
    (case["inputs"] if as_input else case["consts"])[name] = arr


def f64(a):
    return np.asarray(a, np.float64)


def as_out(ref, dtype: str):
    return np.asarray(ref).astype(NP[dtype])


# ----------------------------------------------------------------------------- elementwise binary
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum, "minimum": np.minimum,
    "real_div": np.divide, "floor_div": lambda x, y: np.floor_divide(x, y), "mod": np.mod,
    "pow": np.power,
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
}
COMPARE = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}
LOGICAL = {"logical_and", "logical_or", "logical_xor"}


def binary_cases(op: str, seed: int) -> list[Case]:
    g = rng(seed)
    cases = []
    dtypes = ["bool"] if op in LOGICAL else allowed_dtypes(op)
    for dtype, rank in itertools.product(dtypes, range(1, 6)):
        if dtype not in NP:
            continue
        xs = rand_shape(g, rank)
        ys = broadcast_partner(g, xs)
        if g.random() < 0.5:
            xs, ys = ys, xs  # the smaller operand on either side
        nonzero = op in ("real_div", "floor_div", "mod")
        x = values(g, xs, dtype, 0.5 if op == "pow" else -3, 2 if op == "pow" else 3)
        y = values(g, ys, dtype, -2, 2, nonzero=nonzero)
        if op in COMPARE and dtype != "bool":
            y = y.copy()
            y.reshape(-1)[::2] = np.broadcast_to(x, np.broadcast_shapes(xs, ys)).reshape(-1)[: y.size][::2]
        if op == "pow" and dtype not in FLOATS:
            x, y = np.abs(x) % 4, np.abs(y) % 3
        ref = BINARY[op](f64(x) if dtype in FLOATS else x, f64(y) if dtype in FLOATS else y)
        # integer real_div keeps the inputs' dtype ("type is derived from inputs"): x / y truncated
        out_dtype = "bool" if op in COMPARE | LOGICAL else dtype
        c = {"inputs": {}, "consts": {}}
        operand("x", x, c)
        operand("y", y, c)
        cases.append(Case(f"{op} {dtype} {xs}x{ys}", lambda op=op, **v: getattr(mb, op)(x=v["x"], y=v["y"]),
                          as_out(ref, out_dtype), **c, tol=1e-2 if dtype == "fp16" and op == "pow" else None))
    return cases


@pytest.mark.parametrize("op", sorted(BINARY))
def test_elementwise_binary(tmp_path, op):
    run_cases(tmp_path, binary_cases(op, seed=sorted(BINARY).index(op)))


def test_sub_and_mul_thin_spots(tmp_path):
    """Extra density for sub and mul: scalars, rank-0 partners, int8..uint16 consts, fp16 near overflow."""
    g = rng(100)
    cases = []
    for op in ("sub", "mul"):
        for dtype in allowed_dtypes(op):
            for xs, ys in [((3,), ()), ((2, 1, 4), (3, 1)), ((1, 2, 1, 3, 1), (2, 2, 1, 1)), ((5,), (5,))]:
                x, y = values(g, xs, dtype), values(g, ys, dtype)
                c = {"inputs": {}, "consts": {}}
                operand("x", x, c)
                operand("y", y, c)
                ref = BINARY[op](f64(x) if dtype in FLOATS else x.astype(np.int64),
                                 f64(y) if dtype in FLOATS else y.astype(np.int64))
                cases.append(Case(f"{op} {dtype} {xs}x{ys}", lambda op=op, **v: getattr(mb, op)(x=v["x"], y=v["y"]),
                                  as_out(ref, dtype), **c))
    big = np.array([300.0, -300.0, 250.0], np.float16)
    cases.append(Case("mul fp16 overflow -> inf", lambda x: mb.mul(x=x, y=x), np.square(f64(big)).astype(np.float16),
                      inputs={"x": big}))
    run_cases(tmp_path, cases)


# ----------------------------------------------------------------------------- elementwise unary
def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


UNARY = {
    "abs": (np.abs, {}), "ceil": (np.ceil, {}), "floor": (np.floor, {}), "round": (np.round, {}),
    "sign": (np.sign, {}), "sqrt": (np.sqrt, {"lo": 0.0}), "exp": (np.exp, {}), "exp2": (np.exp2, {}),
    "sin": (np.sin, {}), "cos": (np.cos, {}), "tan": (np.tan, {"lo": -1.2, "hi": 1.2}), "tanh": (np.tanh, {}),
    "sinh": (np.sinh, {}), "cosh": (np.cosh, {}), "asin": (np.arcsin, {"lo": -0.99, "hi": 0.99}),
    "acos": (np.arccos, {"lo": -0.99, "hi": 0.99}), "atan": (np.arctan, {}),
    "atanh": (np.arctanh, {"lo": -0.9, "hi": 0.9}), "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), {}),
    "relu": (lambda x: np.maximum(x, 0), {}), "erf": (np.vectorize(math.erf), {}), "square": (np.square, {}),
    "silu": (lambda x: x / (1 + np.exp(-x)), {}), "identity": (lambda x: x, {}),
    "softsign": (lambda x: x / (1 + np.abs(x)), {}), "relu6": (lambda x: np.minimum(np.maximum(x, 0), 6), {"hi": 8}),
    "softplus": (lambda x: np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0), {}),
}
# ops with parameters: (reference(x, **params), builder params, value range)
PARAM_UNARY = [
    ("rsqrt", lambda x, epsilon: 1 / np.sqrt(x + epsilon), {"epsilon": 0.5}, {"lo": 0.0}),
    ("rsqrt", lambda x: 1 / np.sqrt(x + 1e-12), {}, {"lo": 0.1}),
    ("inverse", lambda x, epsilon: 1 / (x + epsilon), {"epsilon": 0.25}, {"lo": 0.5}),
    ("inverse", lambda x: 1 / (x + 1e-4), {}, {"lo": 0.5}),
    ("log", lambda x, epsilon: np.log(x + epsilon), {"epsilon": 0.5}, {"lo": 0.0}),
    ("log", lambda x: np.log(x + 1e-45), {}, {"lo": 0.1}),
    ("clip", lambda x, alpha, beta: np.minimum(np.maximum(x, alpha), beta), {"alpha": -1.0, "beta": 0.5}, {}),
    ("leaky_relu", lambda x, alpha: np.where(x >= 0, x, alpha * x), {"alpha": 0.2}, {}),
    ("elu", lambda x, alpha: np.where(x > 0, x, alpha * (np.exp(x) - 1)), {"alpha": 0.7}, {}),
    ("sigmoid_hard", lambda x, alpha, beta: np.minimum(np.maximum(alpha * x + beta, 0), 1),
     {"alpha": 0.3, "beta": 0.4}, {}),
    ("threshold", lambda x, alpha: np.maximum(x, alpha), {"alpha": 0.25}, {}),
    ("gelu", lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))), {"mode": "EXACT"}, {}),
    ("gelu", _gelu_tanh, {"mode": "TANH_APPROXIMATION"}, {}),
    ("gelu", lambda x: x / (1 + np.exp(-1.702 * x)), {"mode": "SIGMOID_APPROXIMATION"}, {}),
]


@pytest.mark.parametrize("dtype", FLOATS)
def test_elementwise_unary(tmp_path, dtype):
    g = rng(200 + FLOATS.index(dtype))
    cases = []
    for i, (op, (ref, rng_kw)) in enumerate(sorted(UNARY.items())):
        x = values(g, rand_shape(g, 1 + i % 5), dtype, rng_kw.get("lo", -3.0), rng_kw.get("hi", 3.0))
        tol = 2e-2 if dtype == "fp16" and op in ("exp", "exp2", "sinh", "cosh", "tan", "square") else None
        cases.append(Case(f"{op} {dtype} {x.shape}", lambda op=op, x=None: getattr(mb, op)(x=x),
                          as_out(ref(f64(x)), dtype), inputs={"x": x}, tol=tol))
    for j, (op, ref, params, rng_kw) in enumerate(PARAM_UNARY):
        x = values(g, rand_shape(g, 1 + j % 5), dtype, rng_kw.get("lo", -3.0), rng_kw.get("hi", 3.0))
        typed = {k: NP[dtype](v) if isinstance(v, float) else v for k, v in params.items()}  # params share x's dtype
        cases.append(Case(f"{op} {params} {dtype}", lambda op=op, typed=typed, x=None: getattr(mb, op)(x=x, **typed),
                          as_out(ref(f64(x), **{k: v for k, v in params.items() if k != "mode"}), dtype),
                          inputs={"x": x}, tol=1e-2 if dtype == "fp16" else None))
    run_cases(tmp_path, cases)


def test_logical_not_and_select(tmp_path):
    g = rng(210)
    cases = []
    for rank in range(1, 6):
        shape = rand_shape(g, rank)
        b = values(g, shape, "bool")
        cases.append(Case(f"logical_not {shape}", lambda b: mb.logical_not(x=b), np.logical_not(b), consts={"b": b}))
        a, o = values(g, shape, "fp32"), values(g, broadcast_partner(g, shape), "fp32")
        cases.append(Case(f"select {shape}", lambda cond, a, b: mb.select(cond=cond, a=a, b=b),
                          np.where(b, a, o), inputs={"a": a, "b": o}, consts={"cond": b}))
    run_cases(tmp_path, cases)


# ----------------------------------------------------------------------------- reductions, softmax, norms
REDUCE = {
    "reduce_mean": lambda x, a, k: np.mean(x, axis=a, keepdims=k),
    "reduce_sum": lambda x, a, k: np.sum(x, axis=a, keepdims=k),
    "reduce_prod": lambda x, a, k: np.prod(x, axis=a, keepdims=k),
    "reduce_max": lambda x, a, k: np.max(x, axis=a, keepdims=k),
    "reduce_min": lambda x, a, k: np.min(x, axis=a, keepdims=k),
    "reduce_sum_square": lambda x, a, k: np.sum(x * x, axis=a, keepdims=k),
    "reduce_l1_norm": lambda x, a, k: np.sum(np.abs(x), axis=a, keepdims=k),
    "reduce_l2_norm": lambda x, a, k: np.sqrt(np.sum(x * x, axis=a, keepdims=k)),
    "reduce_log_sum": lambda x, a, k: np.log(np.sum(x, axis=a, keepdims=k)),
    "reduce_log_sum_exp": lambda x, a, k: np.log(np.sum(np.exp(x), axis=a, keepdims=k)),
}


@pytest.mark.parametrize("dtype", FLOATS)
def test_reductions(tmp_path, dtype):
    g = rng(300 + FLOATS.index(dtype))
    cases = []
    for op, ref in sorted(REDUCE.items()):
        for rank in range(1, 6):
            shape = rand_shape(g, rank, 1, 3)
            x = values(g, shape, dtype, 0.1 if op == "reduce_log_sum" else -2, 2)
            k = int(g.integers(1, rank + 1))
            axes = sorted(int(a) - (rank if g.random() < 0.5 else 0) for a in g.choice(rank, size=k, replace=False))
            if g.random() < 0.2:
                axes = None  # every axis
            keep = bool(g.random() < 0.5)
            expect = ref(f64(x), None if axes is None else tuple(axes), keep)
            kw = {"keep_dims": keep} | ({} if axes is None else {"axes": axes})
            cases.append(Case(f"{op} {shape} axes={axes} keep={keep} {dtype}",
                              lambda op=op, kw=kw, x=None: getattr(mb, op)(x=x, **kw), as_out(expect, dtype),
                              inputs={"x": x}, tol=2e-2 if dtype == "fp16" else 1e-4))
    for op, fn in (("reduce_argmax", np.argmax), ("reduce_argmin", np.argmin)):
        for rank in range(1, 6):
            shape = rand_shape(g, rank, 2, 4)
            x = g.permutation(np.prod(shape)).reshape(shape).astype(NP[dtype])  # no ties
            axis = int(g.integers(-rank, rank))
            keep = bool(g.random() < 0.5)
            expect = fn(x, axis=axis)
            if keep:
                expect = np.expand_dims(expect, axis)
            cases.append(Case(f"{op} {shape} axis={axis} keep={keep}",
                              lambda op=op, axis=axis, keep=keep, x=None: getattr(mb, op)(x=x, axis=axis, keep_dims=keep),
                              expect.astype(np.int32), inputs={"x": x}))
    run_cases(tmp_path, cases)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_every_rank_and_axis(tmp_path, dtype):
    g = rng(320 + FLOATS.index(dtype))
    cases = []
    for rank in range(1, 6):
        shape = rand_shape(g, rank, 1, 5)
        for axis in range(-rank, rank):
            x = values(g, shape, dtype, -8, 8)
            cases.append(Case(f"softmax {shape} axis={axis} {dtype}", lambda axis=axis, x=None: mb.softmax(x=x, axis=axis),
                              as_out(_softmax(f64(x), axis), dtype), inputs={"x": x}))
    big = np.array([[100.0, 90.0, -50.0]], NP[dtype])  # large logits: must not overflow in exp
    cases.append(Case("softmax large logits", lambda x: mb.softmax(x=x, axis=-1), as_out(_softmax(f64(big), -1), dtype),
                      inputs={"x": big}))
    run_cases(tmp_path, cases)


@pytest.mark.parametrize("dtype", FLOATS)
def test_norms(tmp_path, dtype):
    g = rng(340 + FLOATS.index(dtype))
    cases = []
    for rank in range(1, 6):
        shape = rand_shape(g, rank, 2, 4)
        x = values(g, shape, dtype)
        k = int(g.integers(1, rank + 1))
        axes = sorted(int(a) - rank for a in g.choice(rank, size=k, replace=False))
        norm_shape = [shape[a] if a - rank in axes else 1 for a in range(rank)] if False else \
            [shape[a] for a in range(rank) if a - rank in axes]
        contiguous = axes == list(range(-k, 0))
        gamma = values(g, tuple(norm_shape), dtype, 0.5, 1.5) if contiguous else None
        beta = values(g, tuple(norm_shape), dtype, -0.5, 0.5) if contiguous else None
        mean = f64(x).mean(axis=tuple(axes), keepdims=True)
        var = ((f64(x) - mean) ** 2).mean(axis=tuple(axes), keepdims=True)
        ref = (f64(x) - mean) / np.sqrt(var + 1e-3)
        kw = {"axes": axes, "epsilon": NP[dtype](1e-3)}
        c = {"inputs": {"x": x}, "consts": {}}
        if gamma is not None:
            ref = ref * f64(gamma) + f64(beta)
            c["consts"] = {"gamma": gamma, "beta": beta}
        cases.append(Case(f"layer_norm {shape} axes={axes} {dtype}",
                          lambda kw=kw, **v: mb.layer_norm(x=v["x"], gamma=v.get("gamma"), beta=v.get("beta"), **kw),
                          as_out(ref, dtype), **c, tol=2e-2 if dtype == "fp16" else 1e-4))
    for rank in (3, 4, 5):
        shape = rand_shape(g, rank, 2, 3)
        x = values(g, shape, dtype)
        ch = shape[1]
        m, v = values(g, (ch,), dtype, -1, 1), values(g, (ch,), dtype, 0.5, 2)
        ga, be = values(g, (ch,), dtype, 0.5, 1.5), values(g, (ch,), dtype, -1, 1)
        b = [1, ch] + [1] * (rank - 2)
        ref = (f64(x) - f64(m).reshape(b)) / np.sqrt(f64(v).reshape(b) + 1e-5) * f64(ga).reshape(b) + f64(be).reshape(b)
        cases.append(Case(f"batch_norm {shape}", lambda x, mean, variance, gamma, beta: mb.batch_norm(
            x=x, mean=mean, variance=variance, gamma=gamma, beta=beta, epsilon=NP[dtype](1e-5)), as_out(ref, dtype),
            inputs={"x": x}, consts={"mean": m, "variance": v, "gamma": ga, "beta": be}, tol=2e-2 if dtype == "fp16" else 1e-4))
        if rank in (3, 4):
            red = tuple(range(2, rank))
            mu = f64(x).mean(axis=red, keepdims=True)
            ref = (f64(x) - mu) / np.sqrt(((f64(x) - mu) ** 2).mean(axis=red, keepdims=True) + 1e-5)
            ref = ref * f64(ga).reshape(b) + f64(be).reshape(b)
            cases.append(Case(f"instance_norm {shape}", lambda x, gamma, beta: mb.instance_norm(
                x=x, gamma=gamma, beta=beta, epsilon=NP[dtype](1e-5)), as_out(ref, dtype), inputs={"x": x},
                consts={"gamma": ga, "beta": be}, tol=2e-2 if dtype == "fp16" else 1e-4))
        lead = shape[: rank - 3]
        flat = f64(x).reshape(int(np.prod(lead)) if lead else 1, -1)
        ref = (flat / np.sqrt((flat * flat).sum(axis=1, keepdims=True) + 0.1)).reshape(shape)
        cases.append(Case(f"l2_norm {shape}", lambda x: mb.l2_norm(x=x, epsilon=NP[dtype](0.1)), as_out(ref, dtype),
                          inputs={"x": x}))
    run_cases(tmp_path, cases)


# ----------------------------------------------------------------------------- shape and data movement
def test_reshape_transpose_squeeze_expand_tile(tmp_path):
    g = rng(400)
    cases = []
    for dtype in allowed_dtypes("reshape"):
        for rank in range(1, 6):
            shape = rand_shape(g, rank)
            x = values(g, shape, dtype)
            c = {"inputs": {}, "consts": {}}
            operand("x", x, c)
            new = [int(np.prod(shape))] if rank > 1 else [1, shape[0]]
            cases.append(Case(f"reshape {dtype} {shape}->{new}", lambda new=new, x=None: mb.reshape(x=x, shape=new),
                              x.reshape(new), **c))
            cases.append(Case(f"reshape -1 {dtype} {shape}", lambda x: mb.reshape(x=x, shape=[-1, 1]),
                              x.reshape(-1, 1), **c))
            if dtype in allowed_dtypes("transpose"):
                perm = [int(p) for p in g.permutation(rank)]
                cases.append(Case(f"transpose {dtype} {shape} {perm}", lambda perm=perm, x=None: mb.transpose(x=x, perm=perm),
                                  np.transpose(x, perm), **c))
            if rank < 5 and dtype in allowed_dtypes("expand_dims"):
                ax = int(g.integers(-(rank + 1), rank + 1))
                cases.append(Case(f"expand_dims {dtype} {shape} {ax}", lambda ax=ax, x=None: mb.expand_dims(x=x, axes=[ax]),
                                  np.expand_dims(x, ax), **c))
            if dtype in allowed_dtypes("tile"):
                reps = [int(r) for r in g.integers(1, 3, size=rank)]
                cases.append(Case(f"tile {dtype} {shape} {reps}", lambda reps=reps, x=None: mb.tile(x=x, reps=reps),
                                  np.tile(x, reps), **c))
    for shape, axes in [((1, 3, 1, 2, 1), [-1, 0]), ((2, 1), None), ((1, 1, 4), [1])]:
        x = values(g, shape, "fp32")
        kw = {} if axes is None else {"axes": axes}
        cases.append(Case(f"squeeze {shape} {axes}", lambda kw=kw, x=None: mb.squeeze(x=x, **kw),
                          np.squeeze(x, axis=None if axes is None else tuple(axes)), inputs={"x": x}))
    run_cases(tmp_path, cases)


def test_slices(tmp_path):
    g = rng(410)
    cases = []
    for dtype in allowed_dtypes("slice_by_index"):
        for rank in range(1, 6):
            shape = rand_shape(g, rank, 1, 5)
            x = values(g, shape, dtype)
            c = {"inputs": {}, "consts": {}}
            operand("x", x, c)
            begin, end, stride, bm, em, sm, idx = [], [], [], [], [], [], []
            for d in shape:
                while True:  # a non-empty slice of the kinds the definition accepts
                    s = int(g.choice([1, 2, -1, -2]))
                    b, e = int(g.integers(-d, d)), int(g.integers(-d - 1, d + 1))
                    bmask, emask = bool(g.random() < 0.3), bool(g.random() < 0.3)
                    sl = slice(None if bmask else b, None if emask else e, s)
                    rejected = not (bmask or emask) and ((b >= 0 and e >= 0 and s > 0 and e < b)
                                                         or (b < 0 and e < 0 and s < 0 and b < e))
                    if len(range(*sl.indices(d))) and not rejected:
                        break
                squeeze = bool(g.random() < 0.15 and len(shape) > 1)
                begin.append(b), end.append(e), stride.append(s), bm.append(bmask), em.append(emask), sm.append(squeeze)
                idx.append(b if squeeze else sl)
            if all(sm):
                sm[0] = False
                idx[0] = slice(None if bm[0] else begin[0], None if em[0] else end[0], stride[0])
            expect = x[tuple(idx)]
            cases.append(Case(f"slice_by_index {dtype} {shape} b{begin} e{end} s{stride} bm{bm} em{em} sq{sm}",
                              lambda kw=dict(begin=begin, end=end, stride=stride, begin_mask=bm, end_mask=em, squeeze_mask=sm),
                              x=None: mb.slice_by_index(x=x, **kw), expect, **c))
            b2 = [int(g.integers(0, d)) for d in shape]
            sz = [int(g.integers(1, d - b + 1)) if g.random() < 0.7 else -1 for d, b in zip(shape, b2)]
            expect = x[tuple(slice(b, None if s == -1 else b + s) for b, s in zip(b2, sz))]
            cases.append(Case(f"slice_by_size {dtype} {shape} {b2} {sz}",
                              lambda b2=b2, sz=sz, x=None: mb.slice_by_size(x=x, begin=b2, size=sz), expect, **c))
    run_cases(tmp_path, cases)


def test_concat_stack_split(tmp_path):
    g = rng(420)
    cases = []
    for dtype in ("fp32", "fp16", "int32"):
        for rank in range(1, 6):
            shape = list(rand_shape(g, rank, 1, 3))
            axis = int(g.integers(-rank, rank))
            parts = []
            for _ in range(3):
                s = list(shape)
                s[axis] = int(g.integers(1, 4))
                parts.append(values(g, tuple(s), dtype))
            c = {"inputs": {f"v{i}": p for i, p in enumerate(parts)}, "consts": {}}
            cases.append(Case(f"concat {dtype} axis={axis}", lambda axis=axis, **v: mb.concat(
                values=[v["v0"], v["v1"], v["v2"]], axis=axis), np.concatenate(parts, axis=axis), **c))
            same = [values(g, tuple(shape), dtype) for _ in range(2)]
            a = axis % rank
            inter = np.stack(same, axis=a + 1).reshape(*shape[:a], -1, *shape[a + 1:])
            cases.append(Case(f"concat interleave {dtype} axis={axis}", lambda axis=axis, a=None, b=None: mb.concat(
                values=[a, b], axis=axis, interleave=True), inter, inputs={"a": same[0], "b": same[1]}))
            if rank == 5:
                continue  # stacking would make rank 6, past Core ML's limit
            sax = int(g.integers(-(rank + 1), rank + 1))
            cases.append(Case(f"stack {dtype} axis={sax}", lambda sax=sax, a=None, b=None: mb.stack(values=[a, b], axis=sax),
                              np.stack(same, axis=sax), inputs={"a": same[0], "b": same[1]}))
    # split: both forms, every rank, negative axes, uneven sizes, every allowed dtype
    for dtype in allowed_dtypes("split"):
        for rank in range(1, 6):
            shape = list(rand_shape(g, rank, 1, 3))
            axis = int(g.integers(-rank, rank))
            n = int(g.integers(1, 4))
            shape[axis] = n * int(g.integers(1, 3))
            x = values(g, tuple(shape), dtype)
            c = {"inputs": {}, "consts": {}}
            operand("x", x, c)
            cases.append(Case(f"split {dtype} {shape} axis={axis} num_splits={n}",
                              lambda axis=axis, n=n, x=None: mb.split(x=x, num_splits=n, axis=axis),
                              tuple(np.split(x, n, axis=axis)), **c))
            total = shape[axis]
            cuts = sorted(int(v) for v in g.choice(np.arange(1, total), size=min(2, total - 1), replace=False)) \
                if total > 1 else []
            sizes = [b - a for a, b in zip([0] + cuts, cuts + [total])]
            cases.append(Case(f"split {dtype} {shape} axis={axis} sizes={sizes}",
                              lambda axis=axis, sizes=sizes, x=None: mb.split(x=x, split_sizes=sizes, axis=axis),
                              tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis)), **c))
    run_cases(tmp_path, cases)


@pytest.mark.parametrize("dtype", FLOATS)
def test_pad_every_mode_rank_and_width(tmp_path, dtype):
    g = rng(430 + FLOATS.index(dtype))
    cases = []
    for mode, np_mode in (("constant", "constant"), ("reflect", "reflect"), ("replicate", "edge")):
        for rank in range(1, 6):
            shape = rand_shape(g, rank, 2, 4)
            n = int(g.integers(1, min(rank, 3) + 1)) if mode != "constant" else int(g.integers(1, rank + 1))
            pads = []
            for d in shape[rank - n:]:
                hi = d - 1 if mode == "reflect" else 3
                pads += [int(g.integers(0, hi + 1)), int(g.integers(0, hi + 1))]
            x = values(g, shape, dtype)
            widths = [(0, 0)] * (rank - n) + [(pads[2 * i], pads[2 * i + 1]) for i in range(n)]
            kw = {"mode": mode} | ({"constant_val": NP[dtype](-1.5)} if mode == "constant" else {})
            extra = {"constant_values": -1.5} if mode == "constant" else {}
            cases.append(Case(f"pad {mode} {dtype} {shape} {pads}", lambda pads=pads, kw=kw, x=None: mb.pad(x=x, pad=pads, **kw),
                              np.pad(x, widths, mode=np_mode, **extra), inputs={"x": x}))
    run_cases(tmp_path, cases)


def test_gathers(tmp_path):
    g = rng(440)
    cases = []
    for dtype in allowed_dtypes("gather"):
        for rank in range(1, 5):
            shape = rand_shape(g, rank, 2, 4)
            x = values(g, shape, dtype)
            c = {"inputs": {}, "consts": {}}
            operand("x", x, c)
            axis = int(g.integers(-rank, rank))
            d = shape[axis]
            idx = g.integers(-d, d, size=rand_shape(g, int(g.integers(1, 3)), 1, 3)).astype(np.int32)
            c2 = {"inputs": dict(c["inputs"]), "consts": {**c["consts"], "indices": idx}}
            cases.append(Case(f"gather {dtype} {shape} axis={axis} idx{idx.shape}",
                              lambda axis=axis, x=None, indices=None: mb.gather(x=x, indices=indices, axis=axis),
                              np.take(x, idx, axis=axis), **c2))
            along = g.integers(-d, d, size=tuple(s if i != axis % rank else int(g.integers(1, 4))
                                                 for i, s in enumerate(shape))).astype(np.int32)
            c3 = {"inputs": dict(c["inputs"]), "consts": {**c["consts"], "indices": along}}
            cases.append(Case(f"gather_along_axis {dtype} {shape} axis={axis}",
                              lambda axis=axis, x=None, indices=None: mb.gather_along_axis(x=x, indices=indices, axis=axis),
                              np.take_along_axis(x, np.where(along < 0, along + d, along), axis=axis), **c3))
        # batch_dims: tf.gather semantics
        x = values(g, (2, 3, 4), dtype)
        idx = np.array([[2, -1], [0, 1]], np.int32)
        exp = np.stack([np.take(x[b], idx[b], axis=1) for b in range(2)])
        c = {"inputs": {}, "consts": {"indices": idx}}
        operand("x", x, c)
        cases.append(Case(f"gather batch_dims=1 {dtype}", lambda x=None, indices=None: mb.gather(
            x=x, indices=indices, axis=2, batch_dims=1), exp, **c))
    run_cases(tmp_path, cases)


def test_shape_fill_upsample(tmp_path):
    g = rng(450)
    cases = []
    for rank in range(1, 6):
        shape = rand_shape(g, rank)
        x = values(g, shape, "fp32")
        cases.append(Case(f"shape {shape}", lambda x: mb.shape(x=x), np.array(shape, np.int32), inputs={"x": x}))
        cases.append(Case(f"fill {shape}", lambda s: mb.fill(shape=s, value=2.5), np.full(shape, 2.5, np.float32),
                          consts={"s": np.array(shape, np.int32)}))
    for sh, sw in ((2, 3), (1.5, 0.5), (2.0, 1.0)):
        x = values(g, (1, 2, 4, 6), "fp32")
        oh, ow = int(np.floor(4 * sh)), int(np.floor(6 * sw))
        rows = np.minimum(np.floor(np.arange(oh) / sh).astype(int), 3)
        cols = np.minimum(np.floor(np.arange(ow) / sw).astype(int), 5)
        cases.append(Case(f"upsample_nearest_neighbor {sh}x{sw}", lambda sh=sh, sw=sw, x=None: mb.upsample_nearest_neighbor(
            x=x, scale_factor_height=sh, scale_factor_width=sw), x[:, :, rows][:, :, :, cols], inputs={"x": x}))
    run_cases(tmp_path, cases)


# ----------------------------------------------------------------------------- linear algebra, conv, pooling
def _conv_ref(x, w, b, strides, pads, dil, groups):
    n = x.ndim - 2
    x = np.pad(f64(x), [(0, 0), (0, 0)] + list(pads))
    cout, cin_g = w.shape[:2]
    ks = w.shape[2:]
    out_sp = [(x.shape[2 + i] - dil[i] * (ks[i] - 1) - 1) // strides[i] + 1 for i in range(n)]
    out = np.zeros((x.shape[0], cout, *out_sp))
    opg = cout // groups
    for pos in itertools.product(*[range(o) for o in out_sp]):
        for k in itertools.product(*[range(kk) for kk in ks]):
            src = tuple(pos[i] * strides[i] + k[i] * dil[i] for i in range(n))
            patch = x[(slice(None), slice(None)) + src]  # [N, Cin]
            for gi in range(groups):
                xs = patch[:, gi * cin_g:(gi + 1) * cin_g]
                ws = f64(w)[gi * opg:(gi + 1) * opg, :, *k]
                out[(slice(None), slice(gi * opg, (gi + 1) * opg)) + pos] += xs @ ws.T
    if b is not None:
        out += f64(b).reshape([1, -1] + [1] * n)
    return out


def _same(size, k, s, d, lower):
    o = -(-size // s)
    total = max((o - 1) * s + (k - 1) * d + 1 - size, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


@pytest.mark.parametrize("dtype", FLOATS)
def test_conv_every_rank_pad_type_group_and_dilation(tmp_path, dtype):
    g = rng(500 + FLOATS.index(dtype))
    cases = []
    for n, pad_type in itertools.product((1, 2, 3), ("valid", "same", "same_lower", "custom")):
        groups = int(g.choice([1, 2]))
        cin, cout = 2 * groups, 2 * groups
        sp = rand_shape(g, n, 4, 6)
        ks = rand_shape(g, n, 1, 3)
        st = rand_shape(g, n, 1, 2)
        dl = rand_shape(g, n, 1, 2)
        x = values(g, (1, cin, *sp), dtype, -1, 1)
        w = values(g, (cout, cin // groups, *ks), dtype, -1, 1)
        b = values(g, (cout,), dtype, -1, 1)
        if pad_type == "valid":
            pads = [(0, 0)] * n
        elif pad_type == "custom":
            pads = [(int(g.integers(0, 3)), int(g.integers(0, 3))) for _ in range(n)]
        else:
            pads = [_same(sp[i], ks[i], st[i], dl[i], pad_type == "same_lower") for i in range(n)]
        kw = dict(strides=list(st), dilations=list(dl), pad_type=pad_type, groups=groups)
        if pad_type == "custom":
            kw["pad"] = [v for p in pads for v in p]
        cases.append(Case(f"conv{n}d {pad_type} g{groups} k{ks} s{st} d{dl} {dtype}",
                          lambda kw=kw, x=None, weight=None, bias=None: mb.conv(x=x, weight=weight, bias=bias, **kw),
                          as_out(_conv_ref(x, w, b, st, pads, dl, groups), dtype), inputs={"x": x},
                          consts={"weight": w, "bias": b}, tol=1e-2 if dtype == "fp16" else 1e-4))
    run_cases(tmp_path, cases)


def _pool_ref(x, ks, st, pads, kind, exclude_padding, ceil_mode):
    n = x.ndim - 2
    xs = f64(x)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(xs, [(0, 0), (0, 0)] + list(pads), constant_values=fill)
    mask = np.pad(np.ones(xs.shape[2:]), list(pads))
    rnd = math.ceil if ceil_mode else math.floor
    out_sp = [rnd((xp.shape[2 + i] - ks[i]) / st[i]) + 1 for i in range(n)]
    out = np.zeros(xs.shape[:2] + tuple(out_sp))
    for pos in itertools.product(*[range(o) for o in out_sp]):
        sl = tuple(slice(pos[i] * st[i], min(pos[i] * st[i] + ks[i], xp.shape[2 + i])) for i in range(n))
        win = xp[(slice(None), slice(None)) + sl]
        axes = tuple(range(2, 2 + n))
        if kind == "max":
            out[(slice(None), slice(None)) + pos] = win.max(axis=axes)
        elif kind == "l2":
            out[(slice(None), slice(None)) + pos] = np.sqrt((win ** 2).sum(axis=axes))
        else:
            count = mask[sl].sum() if exclude_padding else float(np.prod(ks))
            out[(slice(None), slice(None)) + pos] = win.sum(axis=axes) / count
    return out


def test_pools(tmp_path):
    g = rng(520)
    cases = []
    for kind, n, pad_type in itertools.product(("avg", "max", "l2"), (1, 2), ("valid", "same", "custom")):
        sp = rand_shape(g, n, 4, 7)
        ks = rand_shape(g, n, 2, 3)
        st = rand_shape(g, n, 1, 2)
        x = values(g, (1, 2, *sp), "fp32")
        pads = [(0, 0)] * n if pad_type == "valid" else [_same(sp[i], ks[i], st[i], 1, False) for i in range(n)] \
            if pad_type == "same" else [(1, 0)] * n
        for excl in ((False, True) if kind == "avg" else (False,)):
            kw = dict(kernel_sizes=list(ks), strides=list(st), pad_type=pad_type, ceil_mode=False)
            if pad_type == "custom":
                kw["pad"] = [v for p in pads for v in p]
            if kind == "avg":
                kw["exclude_padding_from_average"] = excl
            cases.append(Case(f"{kind}_pool {n}d {pad_type} excl={excl}",
                              lambda kind=kind, kw=kw, x=None: getattr(mb, f"{kind}_pool")(x=x, **kw),
                              _pool_ref(x, ks, st, pads, kind, excl, False).astype(np.float32), inputs={"x": x}, tol=1e-4))
    run_cases(tmp_path, cases)


def test_linear_and_matmul_broadcasting(tmp_path):
    g = rng(540)
    cases = []
    for dtype in ("fp32", "fp16"):
        for rank in range(1, 4):
            shape = (*rand_shape(g, rank - 1, 1, 3), 4)
            x = values(g, shape, dtype, -1, 1)
            w, b = values(g, (3, 4), dtype, -1, 1), values(g, (3,), dtype, -1, 1)
            cases.append(Case(f"linear {dtype} {shape}", lambda x=None, weight=None, bias=None: mb.linear(
                x=x, weight=weight, bias=bias), as_out(f64(x) @ f64(w).T + f64(b), dtype), inputs={"x": x},
                consts={"weight": w, "bias": b}, tol=1e-2 if dtype == "fp16" else 1e-5))
    for rx, ry in itertools.product(range(1, 5), range(1, 5)):
        for tx, ty in ((False, False), (True, False), (False, True), (True, True)):
            # coremltools cannot type a 1-D y, and mistypes a 1-D x against a batched y ((3,)@(2,3,4) declared (1,4))
            if (tx and rx == 1) or ry == 1 or (rx == 1 and ry > 2):
                continue
            batch = rand_shape(g, max(rx, ry) - 2, 1, 3) if max(rx, ry) > 2 else ()
            xb = tuple(1 if g.random() < 0.3 else d for d in batch[len(batch) - max(rx - 2, 0):])  # broadcast
            xs = (*xb, 2, 3) if rx > 1 else (3,)
            ys = (*batch[len(batch) - max(ry - 2, 0):], 3, 4) if ry > 1 else (3,)
            x, y = values(g, xs, "fp32"), values(g, ys, "fp32")
            stored_x = np.swapaxes(x, -1, -2).copy() if tx else x  # what the program holds
            stored_y = np.swapaxes(y, -1, -2).copy() if ty else y
            cases.append(Case(f"matmul {xs} x {ys} transpose_x={tx} transpose_y={ty}",
                              lambda tx=tx, ty=ty, x=None, y=None: mb.matmul(x=x, y=y, transpose_x=tx, transpose_y=ty),
                              np.matmul(f64(x), f64(y)).astype(np.float32), inputs={"x": stored_x, "y": stored_y},
                              tol=1e-5))
    run_cases(tmp_path, cases)


# ----------------------------------------------------------------------------- dtypes and quantization
def test_cast_between_every_dtype(tmp_path):
    src = np.array([-3.7, -1.2, 0.0, 0.6, 2.5, 100.9], np.float32)
    cases = []
    for dtype in allowed_dtypes("cast"):
        expect = src.astype(np.float64)
        if dtype == "bool":
            expect = src != 0
        elif dtype in FLOATS:
            expect = src.astype(NP[dtype])
        else:
            info = np.iinfo(NP[dtype])
            t = np.trunc(src).astype(np.int64)  # C casts truncate toward zero
            expect = (np.mod(t, info.max + 1) if info.min == 0 else np.clip(t, info.min, info.max)).astype(NP[dtype])
            if dtype != "uint16" and info.min == 0:
                continue  # uint8 of negatives is undefined in the definition; uint16 wraps (documented)
        cases.append(Case(f"cast fp32->{dtype}", lambda dtype=dtype, x=None: mb.cast(x=x, dtype=dtype), expect,
                          inputs={"x": src}))
    ints = np.array([-7, 0, 5, 120], np.int32)
    for dtype in ("fp32", "fp16", "int8", "int16", "bool"):
        exp = ints != 0 if dtype == "bool" else ints.astype(NP[dtype])
        cases.append(Case(f"cast int32->{dtype}", lambda dtype=dtype, x=None: mb.cast(x=x, dtype=dtype), exp, inputs={"x": ints}))
    run_cases(tmp_path, cases)


def test_quantize_dequantize_modes(tmp_path):
    g = rng(600)
    cases = []
    x = values(g, (2, 3, 4), "fp32")
    for out_dtype in ("int8", "uint8"):
        info = np.iinfo(NP[out_dtype])
        for axis in (None, 1, -1):
            if axis is None:
                scale, zp = np.float32(0.05), NP[out_dtype](3 if out_dtype == "int8" else 128)
                b_scale, b_zp = scale, zp
            else:
                n = x.shape[axis]
                scale = g.uniform(0.02, 0.08, size=n).astype(np.float32)
                zp = g.integers(-5 if out_dtype == "int8" else 120, 6 if out_dtype == "int8" else 136, size=n).astype(NP[out_dtype])
                shp = [1, 1, 1]
                shp[axis] = n
                b_scale, b_zp = scale.reshape(shp), zp.reshape(shp)
            q = np.clip(np.round(f64(x) / b_scale) + f64(b_zp), info.min, info.max).astype(NP[out_dtype])
            kw = {} if axis is None else {"axis": axis}
            cases.append(Case(f"quantize {out_dtype} axis={axis}", lambda kw=kw, od=out_dtype, x=None, scale=None, zp=None:
                              mb.quantize(input=x, scale=scale, zero_point=zp, output_dtype=od, **kw), q,
                              inputs={"x": x}, consts={"scale": np.asarray(scale), "zp": np.asarray(zp)}))
            deq = ((f64(q) - f64(b_zp)) * b_scale).astype(np.float32)
            cases.append(Case(f"dequantize {out_dtype} axis={axis}", lambda kw=kw, q=None, scale=None, zp=None:
                              mb.dequantize(input=q, scale=scale, zero_point=zp, **kw), deq,
                              consts={"q": q, "scale": np.asarray(scale), "zp": np.asarray(zp)}))
    run_cases(tmp_path, cases)


def test_constexpr_ops(tmp_path):
    """Weight decompression ops: per-channel affine (iOS16), cast (iOS16), blockwise shift/scale (iOS18)."""
    g = rng(610)
    q = g.integers(-100, 100, size=(4, 6)).astype(np.int8)
    scale = g.uniform(0.01, 0.1, size=4).astype(np.float32)
    zp = g.integers(-3, 3, size=4).astype(np.int8)
    x = values(g, (2, 6), "fp32")
    w = (f64(q) - f64(zp)[:, None]) * f64(scale)[:, None]
    cases = [Case("constexpr_affine_dequantize axis 0", lambda x: mb.linear(
        x=x, weight=mb.constexpr_affine_dequantize(quantized_data=q, zero_point=zp, scale=scale, axis=0)),
        (f64(x) @ w.T).astype(np.float32), inputs={"x": x}, tol=1e-5)]
    h = values(g, (3, 6), "fp16")
    cases.append(Case("constexpr_cast fp16->fp32", lambda x: mb.linear(
        x=x, weight=mb.constexpr_cast(source_val=h, output_dtype="fp32")), (f64(x) @ f64(h).T).astype(np.float32),
        inputs={"x": x}, tol=1e-5))
    run_cases(tmp_path, cases, target=ct.target.iOS17)
    data = g.integers(-8, 8, size=(4, 6)).astype(np.int8)
    bscale = g.uniform(0.05, 0.2, size=(4, 2)).astype(np.float32)  # blocks of 3 along the last dim
    boff = g.integers(-2, 2, size=(4, 2)).astype(np.int8)
    w = (f64(data) - np.repeat(f64(boff), 3, axis=1)) * np.repeat(f64(bscale), 3, axis=1)
    run_cases(tmp_path, [Case("constexpr_blockwise_shift_scale", lambda x: mb.linear(
        x=x, weight=mb.constexpr_blockwise_shift_scale(data=data, scale=bscale, offset=boff)),
        (f64(x) @ w.T).astype(np.float32), inputs={"x": x}, tol=1e-5)], target=ct.target.iOS18)


# ----------------------------------------------------------------------------- completeness
COVERED = (set(BINARY) | set(UNARY) | {p[0] for p in PARAM_UNARY} | set(REDUCE) | {
    "logical_not", "select", "reduce_argmax", "reduce_argmin", "softmax", "layer_norm", "batch_norm", "instance_norm",
    "l2_norm", "reshape", "transpose", "squeeze", "expand_dims", "tile", "slice_by_index", "slice_by_size", "concat",
    "stack", "split", "pad", "gather", "gather_along_axis", "shape", "fill", "upsample_nearest_neighbor", "conv",
    "avg_pool", "max_pool", "l2_pool", "linear", "matmul", "cast", "quantize", "dequantize",
    "constexpr_affine_dequantize", "constexpr_cast", "constexpr_blockwise_shift_scale"})


def test_every_kernel_is_covered():
    assert sorted(set(KERNELS) - COVERED) == [], "kernels without conformance cases"
