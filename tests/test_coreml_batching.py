"""The ML-program executor runs many images in one pass where the program keeps images apart, and
proves it op by op: batched logits equal single-image logits; programs that mix dim 0 are refused with
the op named; a batched pass that fails or disagrees switches batching off instead of answering."""
from __future__ import annotations

import numpy as np
import pytest

ct = pytest.importorskip("coremltools", reason="coremltools not installed: pip install -e '.[coreml]'")
from coremltools.converters.mil import Builder as mb  # noqa: E402

from effmod.eval.metrics import compare  # noqa: E402
from effmod.targets.coreml import runner as coreml_runner  # noqa: E402
from effmod.targets.coreml.mlprogram import load_program  # noqa: E402
from effmod.targets.coreml.mlprogram import ops  # noqa: E402
from effmod.targets.coreml.mlprogram.batching import analyse  # noqa: E402
from effmod.targets.coreml.runner import CoreMLRunner  # noqa: E402

from .test_mlprogram_ops import rand, run_mil  # noqa: E402

X = np.random.default_rng(3).standard_normal((7, 3, 64, 64)).astype(np.float32)


def test_the_model_runs_batched_and_equals_single_passes(small_artifacts):
    path = small_artifacts["coreml"]  # fp16, the default Core ML precision; attention blocks fold heads into dim 0
    batched = CoreMLRunner(path, engine="executor")
    single = CoreMLRunner(path, engine="executor", batching=False)
    assert batched.batching.endswith("images a pass") and single.batching == "off: not asked for"
    assert batched.batch > 7 and single.batch == 1
    a, b = batched(X), single(X)
    assert a.shape == b.shape == (7, 10)
    assert np.array_equal(a.argmax(1), b.argmax(1)) and compare(b, a).sqnr_db > 50
    assert batched.batching.endswith("images a pass")  # the check on the first pass held
    attention_reshapes = [op for op in load_program(path).ops if op.type == "reshape"
                          and op.outputs[0][1].shape and op.outputs[0][1].shape[0] > 1]
    assert attention_reshapes  # batch x heads folded into dim 0: the case batching has to scale


def test_a_program_that_moves_dim_0_is_refused_with_the_op_named(tmp_path):
    _, executor = run_mil(tmp_path, lambda x: mb.transpose(x=x, perm=[1, 0, 2]), {"x": rand(1, 4, 5)})
    plan = analyse(executor.program)
    assert not plan.ok and "moves dim 0" in plan.reason and "transpose" in plan.reason
    _, executor = run_mil(tmp_path, lambda x: mb.reduce_sum(x=x, axes=[0], keep_dims=True), {"x": rand(1, 4, 5)})
    assert "works along dim 0" in analyse(executor.program).reason
    _, executor = run_mil(tmp_path, lambda x: mb.gather(x=x, indices=[0], axis=1), {"x": rand(1, 4, 5)})
    assert "not known to keep images apart" in analyse(executor.program).reason
    with pytest.raises(Exception, match="cannot run them in one pass"):
        executor.run({"x": rand(3, 4, 5)})


def test_batched_reshape_scales_only_the_leading_dim(tmp_path):
    x = rand(1, 6, 4)
    _, executor = run_mil(tmp_path, lambda x: mb.reshape(x=mb.reshape(x=x, shape=[3, 2, 4]), shape=[1, 24]),
                          {"x": x})
    xs = rand(5, 6, 4)
    (name,) = executor.program.inputs
    out = executor.run({name: xs})[executor.program.outputs[0]]
    np.testing.assert_array_equal(out, xs.reshape(5, 24))


def test_a_failing_or_disagreeing_batched_pass_turns_batching_off(small_artifacts, monkeypatch):
    path = small_artifacts["coreml"]
    reference = CoreMLRunner(path, engine="executor", batching=False)(X)
    real = ops.KERNELS["reshape"]
    # a reshape kernel that forgets the batch: the batched pass fails on a shape, batching goes off
    monkeypatch.setitem(ops.KERNELS, "reshape", lambda ctx, x, shape: real(ops.Ctx(ctx.op, ctx.fp16, ctx.ios), x, shape))
    run = CoreMLRunner(path, engine="executor")
    np.testing.assert_array_equal(run(X), reference)
    assert run.batching.startswith("off: a batched pass failed") and run.batch == 1
    monkeypatch.setitem(ops.KERNELS, "reshape", real)
    # a batched pass that disagrees (here: any difference at all is too much) is not used either
    monkeypatch.setattr(coreml_runner, "BATCH_AGREEMENT_DB", float("inf"))
    monkeypatch.setattr(coreml_runner, "compare", lambda a, b: compare(a, b + 1e-3), raising=False)
    run = CoreMLRunner(path, engine="executor")
    np.testing.assert_array_equal(run(X), reference)
    assert run.batching.startswith("off: a batched pass disagreed") and run.batch == 1
