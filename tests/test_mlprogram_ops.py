"""Op-level checks of effmod's ML-program executor against the MIL op definitions.

Each test builds a tiny ML program with coremltools' MIL builder (graph passes off, so the op stays
as written), saves a real .mlpackage, runs it through the executor and compares with a reference
written from the op's documented semantics (not with the executor's own kernels)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

ct = pytest.importorskip("coremltools", reason="coremltools not installed: pip install -e '.[coreml]'")
from coremltools.converters.mil import Builder as mb  # noqa: E402
from coremltools.converters.mil.mil import types  # noqa: E402

from effmod.targets.coreml.mlprogram import Executor, UnsupportedOp, load_program  # noqa: E402

RNG = np.random.default_rng(0)


def run_mil(tmp_path, build, inputs: dict[str, np.ndarray], target=None, fp16=False):
    """Build ``build(**vars)`` over inputs of the given shapes, save it, run it in the executor."""
    target = target or ct.target.iOS17
    dtype = types.fp16 if fp16 else types.fp32
    specs = [mb.TensorSpec(shape=v.shape, dtype=dtype) for v in inputs.values()]
    names = list(inputs)

    # the builder reads the parameter names (they become the program's input names)
    src = f"def prog({', '.join(names)}):\n    return build({', '.join(f'{n}={n}' for n in names)})\n"
    scope = {"build": build}
    exec(src, scope)  # noqa: S102 - a two-line wrapper with fixed parameter names
    prog = mb.program(input_specs=specs, opset_version=target)(scope["prog"])
    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=target,
                       pass_pipeline=ct.PassPipeline.EMPTY,
                       compute_precision=ct.precision.FLOAT16 if fp16 else ct.precision.FLOAT32)
    path = tmp_path / f"op{len(list(tmp_path.iterdir()))}.mlpackage"
    model.save(str(path))
    program = load_program(path)
    executor = Executor(program)
    feeds = dict(zip(program.inputs, [v.astype(np.float16 if fp16 else np.float32) for v in inputs.values()]))
    outs = executor.run(feeds)
    return [outs[n] for n in program.outputs], executor


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- conv padding modes
@pytest.mark.parametrize("pad_type,expected", [
    ("valid", (0, 0, 0, 0)),
    # in 8, k 3, stride 2 -> out 4, total pad (4-1)*2+3-8 = 1: "same" puts the odd pixel at the end,
    ("same", (0, 1, 0, 1)),
    # "same_lower" at the beginning
    ("same_lower", (1, 0, 1, 0)),
    ("custom", (2, 0, 1, 3)),
])
def test_conv_pad_types(tmp_path, pad_type, expected):
    x, w, b = rand(1, 4, 8, 8), rand(6, 4, 3, 3), rand(6)
    kw = {"pad": [2, 0, 1, 3]} if pad_type == "custom" else {}
    (y,), _ = run_mil(tmp_path, lambda x: mb.conv(x=x, weight=w, bias=b, strides=[2, 2], pad_type=pad_type, **kw),
                      {"x": x})
    top, bottom, left, right = expected
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    ref = F.conv2d(torch.from_numpy(xp), torch.from_numpy(w), torch.from_numpy(b), stride=2).numpy()
    np.testing.assert_allclose(y, ref, atol=1e-5)


def test_depthwise_dilated_conv(tmp_path):
    x, w = rand(1, 8, 10, 10), rand(8, 1, 3, 3)
    (y,), _ = run_mil(tmp_path, lambda x: mb.conv(x=x, weight=w, groups=8, dilations=[2, 2], pad_type="custom",
                                                  pad=[2, 2, 2, 2]), {"x": x})
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=2, dilation=2, groups=8).numpy()
    np.testing.assert_allclose(y, ref, atol=1e-5)


# ----------------------------------------------------------------------------- elementwise
def test_broadcasting_binary_ops(tmp_path):
    a, b = rand(2, 1, 4), rand(3, 1)
    outs, _ = run_mil(tmp_path, lambda a, b: (mb.add(x=a, y=b), mb.sub(x=a, y=b), mb.mul(x=a, y=b),
                                              mb.real_div(x=a, y=b), mb.maximum(x=a, y=b)), {"a": a, "b": b})
    for got, ref in zip(outs, (a + b, a - b, a * b, a / b, np.maximum(a, b))):
        assert got.shape == (2, 3, 4)
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION"])
def test_gelu_modes(tmp_path, mode):
    x = np.linspace(-6, 6, 97, dtype=np.float32).reshape(1, 97)
    (y,), _ = run_mil(tmp_path, lambda x: mb.gelu(x=x, mode=mode), {"x": x})
    xd = x.astype(np.float64)
    ref = {
        "EXACT": 0.5 * xd * (1 + np.vectorize(math.erf)(xd / math.sqrt(2))),
        "TANH_APPROXIMATION": 0.5 * xd * (1 + np.tanh(math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3))),
        "SIGMOID_APPROXIMATION": xd / (1 + np.exp(-1.702 * xd)),
    }[mode]
    np.testing.assert_allclose(y, ref, atol=1e-5)


def test_rsqrt_epsilon_is_added_inside(tmp_path):
    x = np.array([[0.0, 1e-4, 4.0]], np.float32)
    (y,), _ = run_mil(tmp_path, lambda x: mb.rsqrt(x=x, epsilon=1e-4), {"x": x})
    np.testing.assert_allclose(y, 1 / np.sqrt(x + 1e-4), rtol=1e-6)


# ----------------------------------------------------------------------------- norms, softmax, reductions
def test_layer_norm_channel_axis_epsilon_inside_sqrt(tmp_path):
    # variance (~1e-6) comparable to epsilon: eps inside vs outside the sqrt differ by far more than tolerance
    x = (rand(1, 4, 3, 3) * 1e-3).astype(np.float32)
    gamma, beta = rand(4), rand(4)
    eps = 1e-6
    (y,), _ = run_mil(tmp_path, lambda x: mb.layer_norm(x=x, axes=[1], gamma=gamma, beta=beta, epsilon=eps), {"x": x})
    xd = x.astype(np.float64)
    mean = xd.mean(axis=1, keepdims=True)
    var = ((xd - mean) ** 2).mean(axis=1, keepdims=True)
    ref = (xd - mean) / np.sqrt(var + eps) * gamma.reshape(1, 4, 1, 1) + beta.reshape(1, 4, 1, 1)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    wrong = (xd - mean) / (np.sqrt(var) + eps) * gamma.reshape(1, 4, 1, 1) + beta.reshape(1, 4, 1, 1)
    assert np.abs(wrong - ref).max() > 1e-2


def test_batch_norm(tmp_path):
    x = rand(2, 3, 4, 4)
    mean, var, gamma, beta = rand(3), np.abs(rand(3)) + 0.5, rand(3), rand(3)
    (y,), _ = run_mil(tmp_path, lambda x: mb.batch_norm(x=x, mean=mean, variance=var, gamma=gamma, beta=beta,
                                                        epsilon=1e-3), {"x": x})
    s = lambda v: v.reshape(1, 3, 1, 1)  # noqa: E731
    np.testing.assert_allclose(y, (x - s(mean)) / np.sqrt(s(var) + 1e-3) * s(gamma) + s(beta), atol=1e-5)


def test_softmax_and_reductions(tmp_path):
    x = rand(2, 3, 5)
    outs, _ = run_mil(tmp_path, lambda x: (mb.softmax(x=x, axis=1), mb.reduce_mean(x=x, axes=[-1], keep_dims=True),
                                           mb.reduce_max(x=x), mb.reduce_sum(x=x, axes=[0, 2])), {"x": x})
    e = np.exp(x - x.max(axis=1, keepdims=True))
    refs = (e / e.sum(axis=1, keepdims=True), x.mean(-1, keepdims=True), np.array(x.max()), x.sum(axis=(0, 2)))
    for got, ref in zip(outs, refs):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- data movement
def test_shape_ops(tmp_path):
    x = rand(2, 3, 4, 5)
    outs, _ = run_mil(tmp_path, lambda x: (
        mb.reshape(x=x, shape=[2, -1, 5]),
        mb.transpose(x=x, perm=[0, 2, 3, 1]),
        mb.slice_by_index(x=x, begin=[0, 1, 0, 1], end=[1, 3, 4, 5], stride=[1, 1, 2, 2],
                          begin_mask=[False, False, True, False], end_mask=[False, False, True, False],
                          squeeze_mask=[True, False, False, False]),
        mb.slice_by_size(x=x, begin=[1, 0, 1, 2], size=[1, -1, 2, -1]),
        mb.concat(values=[x, mb.mul(x=x, y=2.0)], axis=1),
        mb.concat(values=[x, mb.mul(x=x, y=2.0)], axis=1, interleave=True),
        mb.tile(x=x, reps=[1, 2, 1, 1]),
        mb.expand_dims(x=mb.reshape(x=x, shape=[6, 20]), axes=[0, -1]),
        mb.squeeze(x=mb.expand_dims(x=x, axes=[2]), axes=[2]),
    ), {"x": x})
    inter = np.stack([x, 2 * x], axis=2).reshape(2, 6, 4, 5)
    refs = (x.reshape(2, -1, 5), x.transpose(0, 2, 3, 1), x[0, 1:3, ::2, 1:5:2], x[1:2, :, 1:3, 2:],
            np.concatenate([x, 2 * x], 1), inter, np.tile(x, (1, 2, 1, 1)), x.reshape(6, 20)[None, ..., None], x)
    for i, (got, ref) in enumerate(zip(outs, refs)):
        assert got.shape == ref.shape, i
        np.testing.assert_allclose(got, ref, rtol=1e-6, err_msg=str(i))


def test_split(tmp_path):
    x = rand(1, 6, 2)
    outs, _ = run_mil(tmp_path, lambda x: (*mb.split(x=x, num_splits=3, axis=1),
                                           *mb.split(x=x, split_sizes=[1, 5], axis=1)), {"x": x})
    refs = (x[:, 0:2], x[:, 2:4], x[:, 4:6], x[:, :1], x[:, 1:])
    for got, ref in zip(outs, refs):
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("mode,np_mode", [("constant", "constant"), ("reflect", "reflect"), ("replicate", "edge")])
def test_pad_modes(tmp_path, mode, np_mode):
    x = rand(1, 2, 4, 5)
    kw = {"constant_val": 1.5} if mode == "constant" else {}
    (y,), _ = run_mil(tmp_path, lambda x: mb.pad(x=x, pad=[1, 2, 3, 0], mode=mode, **kw), {"x": x})
    extra = {"constant_values": 1.5} if mode == "constant" else {}
    np.testing.assert_allclose(y, np.pad(x, ((0, 0), (0, 0), (1, 2), (3, 0)), mode=np_mode, **extra))


@pytest.mark.parametrize("exclude", [False, True])
def test_avg_pool_padding_in_average(tmp_path, exclude):
    x = np.abs(rand(1, 2, 5, 5)) + 1
    (y,), _ = run_mil(tmp_path, lambda x: mb.avg_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="custom",
                                                      pad=[1, 1, 1, 1], exclude_padding_from_average=exclude),
                      {"x": x})
    ref = F.avg_pool2d(torch.from_numpy(x), 3, 2, padding=1, count_include_pad=not exclude).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-6)


def test_max_pool_same(tmp_path):
    x = rand(1, 2, 6, 6)
    (y,), _ = run_mil(tmp_path, lambda x: mb.max_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="same"),
                      {"x": x})
    # in 6, k 3, s 2 -> out 3, total pad 1 at the end (padding never wins a max)
    ref = F.max_pool2d(torch.from_numpy(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=-np.inf)), 3, 2)
    np.testing.assert_allclose(y, ref.numpy())


def test_matmul_transposes_and_linear(tmp_path):
    a, b = rand(2, 5, 3), rand(2, 4, 5)
    w, bias = rand(6, 3), rand(6)
    outs, _ = run_mil(tmp_path, lambda a, b: (mb.matmul(x=a, y=b, transpose_x=True, transpose_y=True),
                                              mb.linear(x=a, weight=w, bias=bias)), {"a": a, "b": b})
    np.testing.assert_allclose(outs[0], a.transpose(0, 2, 1) @ b.transpose(0, 2, 1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs[1], a @ w.T + bias, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- quantisation
def test_quantize_dequantize_per_channel_with_zero_point(tmp_path):
    x = rand(1, 3, 4, 4) * 3
    scale = np.array([0.02, 0.05, 0.1], np.float32)
    zp = np.array([-3, 0, 7], np.int8)
    outs, _ = run_mil(tmp_path, lambda x: (
        mb.dequantize(input=mb.quantize(input=x, scale=scale, zero_point=zp, axis=1, output_dtype="int8"),
                      scale=scale, zero_point=zp, axis=1),), {"x": x})
    s, z = scale.reshape(1, 3, 1, 1), zp.reshape(1, 3, 1, 1).astype(np.float32)
    q = np.clip(np.round(x / s) + z, -128, 127)
    np.testing.assert_allclose(outs[0], (q - z) * s, rtol=1e-6, atol=1e-7)
    assert np.abs(q).max() == 128 or np.abs(q).max() <= 127  # clipping engaged or range sufficed


def test_constexpr_affine_dequantize_weights(tmp_path):
    qw = RNG.integers(-128, 128, size=(8, 4, 1, 1)).astype(np.int8)
    scale = (np.abs(rand(8)) * 0.01 + 1e-3).astype(np.float32)
    zp = np.zeros(8, np.int8)
    x = rand(1, 4, 3, 3)
    (y,), _ = run_mil(tmp_path, lambda x: mb.conv(x=x, weight=mb.constexpr_affine_dequantize(
        quantized_data=qw, zero_point=zp, scale=scale, axis=0)), {"x": x})
    w = qw.astype(np.float32) * scale.reshape(8, 1, 1, 1)
    np.testing.assert_allclose(y, F.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy(), rtol=1e-5, atol=1e-5)


def test_constexpr_blockwise_shift_scale_ios18(tmp_path):
    data = RNG.integers(-8, 8, size=(4, 8)).astype(np.int8)
    scale = (np.abs(rand(4, 2)) + 0.1).astype(np.float32)  # blocks of 4 along the input dim
    x = rand(2, 8)
    (y,), _ = run_mil(tmp_path, lambda x: mb.linear(x=x, weight=mb.constexpr_blockwise_shift_scale(
        data=data, scale=scale)), {"x": x}, target=ct.target.iOS18)
    w = data.astype(np.float32) * np.repeat(scale, 4, axis=1)
    np.testing.assert_allclose(y, x @ w.T, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- fp16, errors
def test_fp16_rounds_every_op_and_reports_overflow_origin(tmp_path):
    x = np.array([[1.0, 300.0, 1 + 2 ** -11]], np.float32)
    (y,), ex = run_mil(tmp_path, lambda x: mb.add(x=mb.mul(x=x, y=x), y=np.float16(0.0)), {"x": x}, fp16=True)
    assert y[0, 0] == 1.0
    assert np.isinf(y[0, 1])  # 90000 > 65504: the phone's fp16 result is inf
    first = ex.last_stats.non_finite[0]
    assert "(mul)" in first.op and first.from_finite
    assert not ex.last_stats.non_finite[1].from_finite  # the add only passed the inf on


def test_fp16_layer_norm_variance_overflow_is_reported(tmp_path):
    x = np.array([[-400.0, 400.0, 0.0, 1.0]], np.float32)  # (x - mean)^2 = 160000 > 65504
    (y,), ex = run_mil(tmp_path, lambda x: mb.layer_norm(x=x, axes=[1], epsilon=1e-5), {"x": x}, fp16=True)
    assert np.isfinite(y).all()  # the overflow is silent in the output...
    events = ex.last_stats.non_finite
    assert events and "layer_norm" in events[0].op and "(x - mean)^2" in events[0].kind  # ...but not here


def test_unsupported_op_is_named_never_skipped(tmp_path):
    x = rand(1, 5)
    with pytest.raises(UnsupportedOp) as err:
        run_mil(tmp_path, lambda x: mb.cumsum(x=x, axis=1), {"x": x})
    msg = err.value.one_line()
    assert "'cumsum'" in msg and "op #" in msg


# ----------------------------------------------------------------------------- issue #20: seven ops that disagreed
def test_cast_to_uint16_then_back(tmp_path):
    """iOS17 allows uint16 (coremltools' fp16 pass casts gather indices to it)."""
    x = np.array([[1.7, 65535.0, 3.0, 0.2]], np.float32)
    (out,), _ = run_mil(tmp_path, lambda x: mb.cast(x=mb.cast(x=x, dtype="uint16"), dtype="fp32"), {"x": x})
    np.testing.assert_array_equal(out, [[1, 65535, 3, 0]])


def test_gather_with_batch_dims(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    idx = np.array([[2, 0], [1, 1]], np.int32)
    (out,), _ = run_mil(tmp_path, lambda x: mb.gather(x=x, indices=idx, axis=1, batch_dims=1), {"x": x})
    np.testing.assert_array_equal(out, [[2, 0], [4, 4]])


def test_gather_along_axis_negative_indices(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    idx = np.array([[-1, 0, 1], [0, -2, -1]], np.int32)
    (out,), _ = run_mil(tmp_path, lambda x: mb.gather_along_axis(x=x, indices=idx, axis=1), {"x": x})
    np.testing.assert_array_equal(out, [[2, 0, 1], [3, 4, 5]])


def test_l2_norm_last_three_dims_per_batch_eps_inside(tmp_path):
    x = np.array([3, 4, 6, 8], np.float32).reshape(2, 1, 1, 2)
    (out,), _ = run_mil(tmp_path, lambda x: mb.l2_norm(x=x), {"x": x})
    np.testing.assert_allclose(out.reshape(2, 2), [[0.6, 0.8], [0.6, 0.8]], rtol=1e-5)
    (out,), _ = run_mil(tmp_path, lambda x: mb.l2_norm(x=x, epsilon=5.7), {"x": np.ones((1, 1, 1), np.float32)})
    np.testing.assert_allclose(out, [[[1 / math.sqrt(1 + 5.7)]]], rtol=1e-5)  # 0.3863, not max(Σx², eps)


def test_matmul_with_a_const_of_another_dtype(tmp_path):
    y = np.array([[1, 2], [3, 4]], np.int32)
    (out,), _ = run_mil(tmp_path, lambda x: mb.matmul(x=x, y=y), {"x": np.array([[1, 2]], np.float32)})
    np.testing.assert_array_equal(out, [[7, 10]])


def test_reshape_zero_counts_from_the_right_at_ios17(tmp_path):
    x = rand(2, 3)
    (out,), _ = run_mil(tmp_path, lambda x: mb.reshape(x=x, shape=[1, 0, -1, 0]), {"x": x})
    assert out.shape == (1, 1, 2, 3)
    np.testing.assert_array_equal(out.reshape(2, 3), x)


def test_reshape_zero_copies_the_same_position_before_ios17(tmp_path):
    x = rand(2, 3, 4)
    (out,), _ = run_mil(tmp_path, lambda x: mb.reshape(x=x, shape=[0, -1, 2]), {"x": x}, target=ct.target.iOS16)
    assert out.shape == (2, 6, 2)


def test_slice_with_negative_stride_over_a_size_one_dim(tmp_path):
    x = rand(1, 4, 3)
    (out,), _ = run_mil(tmp_path, lambda x: mb.slice_by_index(x=x, begin=[0, 3, 0], end=[0, 0, 0], stride=[-1, -1, 1],
                                                             begin_mask=[True, False, True],
                                                             end_mask=[True, True, True]), {"x": x})
    np.testing.assert_array_equal(out, x[::-1, 3::-1, :])
    # only the size-1 dim walks backwards: numpy calls that view contiguous, torch refuses its strides
    (out,), _ = run_mil(tmp_path, lambda x: mb.slice_by_index(x=x, begin=[0, 0, 0], end=[0, 0, 0], stride=[-1, 1, 1],
                                                             begin_mask=[True, True, True],
                                                             end_mask=[True, True, True]), {"x": x})
    np.testing.assert_array_equal(out, x)


# ----------------------------------------------------------------------------- the op registry
def test_the_registry_refuses_a_second_kernel_and_bad_declarations():
    from effmod.targets.coreml.mlprogram.ops import SPECS, declare

    with pytest.raises(ValueError, match="already has a kernel"):
        declare("conv", lambda ctx, x: x)
    with pytest.raises(ValueError, match="not parameters"):
        declare("effmod_test_op", lambda ctx, x: x, variadic=("values",))
    with pytest.raises(ValueError, match="opsets"):
        declare("effmod_test_op", lambda ctx, x: x, since=14)
    assert "effmod_test_op" not in SPECS
    assert SPECS["concat"].variadic == {"values"} and SPECS["quantize"].since == 17
    assert SPECS["conv"].required == ("x", "weight") and "groups" in SPECS["conv"].optional


def test_an_op_newer_than_the_program_s_opset_is_refused_at_load():
    from effmod.targets.coreml.mlprogram.executor import Executor, UnsupportedOp
    from effmod.targets.coreml.mlprogram.program import Op, Program, TensorInfo

    def program(opset: str) -> Program:
        x = TensorInfo("float32", (1, 4))
        ops = [Op(index=0, type="quantize", inputs={"input": [("var", "x")], "scale": [("value", np.float32(0.1))]},
                  attrs={"output_dtype": "int8"}, outputs=[("q", TensorInfo("int8", (1, 4)))])]
        return Program(path=Path("m.mlpackage"), opset=opset, inputs={"x": x}, outputs=["q"], ops=ops)

    with pytest.raises(UnsupportedOp, match="exists from iOS17 on"):
        Executor(program("CoreML5"))
    Executor(program("CoreML7"))
