"""effmod sweep on a tiny labelled set: the grid, rows in the real runtimes, the report files, resume,
a failing artifact as a failed row, and refusals."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from effmod.cli import main
from effmod.cost import CostReport
from effmod.errors import EffmodError
from effmod.models import create_model
from effmod.commands.sweep.grid import build_grid
from effmod.commands.sweep.report import goal_check, pareto_front

CLASSES = ["a", "b", "c"]


def test_grid_combinations_and_notes():
    combos, notes = build_grid(["onnx", "executorch", "coreml"], ["fp32", "fp16", "int8"], [32, 256], ["none", "auto"])
    labels = [c.label for c in combos]
    assert "onnx · fp32" in labels and "coreml · fp16" in labels and "onnx · fp16" not in labels
    assert "executorch · int8 · calib 256 · fallback auto" in labels
    assert not any("onnx" in lbl and "auto" in lbl for lbl in labels)  # no float islands in ORT's recipe
    assert any("onnx has no fp16" in n for n in notes) and any("onnx: no auto-fallback" in n for n in notes)
    assert len(combos) == 1 + 2 + (1 + 4) + (2 + 4)
    with pytest.raises(EffmodError, match="unknown target"):
        build_grid(["tensorrt"], ["fp32"], [32], ["none"])
    with pytest.raises(EffmodError, match="grid is empty"):
        build_grid(["onnx"], ["fp16"], [32], ["none"])


def test_pareto_and_goal():
    rows = [dict(key=k, label=k, target=t, precision=p, fallback=f, status="ok", top1=a, latency_ms=l,
                 kept_float=kf, float_params_fraction=0.1)
            for k, t, p, f, a, l, kf in [("f", "x", "fp32", "none", 90.0, 10.0, []),
                                          ("q", "x", "int8", "none", 88.0, 5.0, []),
                                          ("qa", "x", "int8", "auto", 89.8, 6.0, ["head"]),
                                          ("bad", "x", "int8", "none", 80.0, 7.0, [])]]
    assert {r["key"] for r in pareto_front(rows)} == {"f", "q", "qa"}
    (g,) = goal_check(rows)
    assert g["met"] and g["best_int8"] == "qa" and abs(g["drop"] - 0.2) < 1e-9
    assert g["fallback"]["kept_float"] == ["head"] and abs(g["fallback"]["gain_points"] - 1.8) < 1e-9


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(0)
    for split, n in (("eval", 4), ("calib", 4)):
        for c, name in enumerate(CLASSES):
            (base / split / name).mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 255, size=(40, 40, 3)).astype(np.uint8)
                Image.fromarray(img).save(base / split / name / f"{i}.png")
    (base / "eval" / "a" / "broken.png").write_bytes(b"not an image")
    torch.manual_seed(0)
    model = create_model("efficientmod_xxs", num_classes=3)
    ckpt = base / "w.pth"
    torch.save({"state_dict": model.state_dict(), "num_classes": 3,
                "data_config": {**model.info.data_config.to_dict(), "input_size": (3, 32, 32), "labels": CLASSES,
                                "crop_pct": 1.0}}, ckpt)
    return base, ckpt


def _args(base, ckpt, out, *extra):
    return ["sweep", "--weights", str(ckpt), "--data", str(base / "eval"), "--calib", str(base / "calib"),
            "--targets", "onnx,tflite", "--precisions", "fp32,int8", "--calib-sizes", "8", "--bench-runs", "3",
            "--output", str(out), *extra]


def test_sweep_rows_reports_resume_and_failed_row(setup, tmp_path, capsys):
    base, ckpt = setup
    out = tmp_path / "sw"
    assert main(_args(base, ckpt, out)) == 0
    result = json.loads((out / "results.json").read_text())
    assert result["images"] == 12 and result["unreadable"] == 1
    rows = {r["label"]: r for r in result["rows"]}
    assert set(rows) == {"onnx · fp32", "onnx · int8 · calib 8", "tflite · fp32", "tflite · int8 · calib 8"}
    for r in rows.values():
        assert r["status"] == "ok" and 0 <= r["top1"] <= 100 and r["latency_ms"] > 0 and r["size_mb"] > 0
        # timed in 5 interleaved rounds: the median of the round medians, and their spread
        assert len(r["latency_rounds"]) == 5 and min(r["latency_rounds"]) <= r["latency_ms"] <= max(r["latency_rounds"])
        assert r["latency_spread"] == pytest.approx((max(r["latency_rounds"]) - min(r["latency_rounds"])) / r["latency_ms"],
                                                    abs=1e-3)
        cost = CostReport.from_dict(r["cost"])
        assert (cost.int8_mac_share > 0.5) == (r["precision"] == "int8") and cost.nodes > 0, (r["label"], cost)
    # all rows' artifacts were timed together, in one task on one node (one load reading for all)
    assert len({tuple(r["latency_load"]) for r in rows.values()}) == 1
    # fp32 artifacts compute what PyTorch computes: full agreement, high SQNR
    assert rows["onnx · fp32"]["agreement"] == 100.0 and rows["onnx · fp32"]["sqnr_db"] > 60
    assert rows["tflite · int8 · calib 8"]["sqnr_db"] < rows["tflite · fp32"]["sqnr_db"]
    for f in ("results.csv", "results.md", "pareto.png"):
        assert (out / f).stat().st_size > 0
    md = (out / "results.md").read_text()
    assert "## INT8 goal" in md and "onnx · int8 · calib 8" in md
    assert "## Cost report" in md and "interleaved rounds" in md and " ±" in md
    m = result["agreement_matrix"]
    assert m["labels"][0] == "PyTorch fp32" and set(m["labels"][1:]) == set(rows) and m["images"] == 12
    i = m["labels"].index("onnx · fp32")
    assert m["top1_agreement"][0][i] == 100.0 and m["cosine"][0][i] > 0.99999
    assert all(m["top1_agreement"][k][k] == 100.0 for k in range(len(m["labels"])))
    assert "## Agreement matrix" in md

    # Without --resume the finished sweep is not overwritten.
    assert main(_args(base, ckpt, out)) == 1
    assert "already holds sweep results" in capsys.readouterr().out

    # A killed sweep: one row missing and its cached artifact damaged. --resume recomputes only that
    # row: the cache entry no longer matches its manifest's sha256, so it is exported again.
    label = "onnx · int8 · calib 8"
    key = rows[label]["key"]
    artifact = Path(rows[label]["artifact"])
    (out / "rows" / f"{key}.json").unlink()
    artifact.write_bytes(b"garbage")
    kept = {k: (out / "rows" / f"{r['key']}.json").stat().st_mtime_ns for k, r in rows.items() if r["key"] != key}
    assert main(_args(base, ckpt, out, "--resume", "--no-ray")) == 0
    after = {r["label"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert after[label]["status"] == "ok" and after[label]["export_cached"] is False
    assert after[label]["top1"] == rows[label]["top1"] and after[label]["shards_reused"] == after[label]["shards"]
    assert all((out / "rows" / f"{rows[k]['key']}.json").stat().st_mtime_ns == t for k, t in kept.items())

    # An artifact that cannot load on a worker (garbage its manifest vouches for, as a broken converter
    # would leave): a failed row with the reason, and the sweep still finishes.
    from effmod.manifest import artifact_sha256, manifest_path

    (out / "rows" / f"{key}.json").unlink()
    shutil.rmtree(out / "shards" / key)
    artifact.write_bytes(b"garbage")
    meta = json.loads(manifest_path(artifact).read_text())
    manifest_path(artifact).write_text(json.dumps({**meta, "artifact_sha256": artifact_sha256(artifact)}))
    assert main(_args(base, ckpt, out, "--resume", "--no-ray")) == 2
    after = {r["label"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert after[label]["status"] == "failed" and after[label]["reason"].startswith("shard 0: ")
    assert "failed" in (out / "results.md").read_text()


def test_sweep_refuses_mismatched_classes_and_random_weights(setup, tmp_path, capsys):
    base, ckpt = setup
    wrong = tmp_path / "wrong"
    for name in ("a", "b", "zzz"):
        (wrong / name).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(wrong / name / "0.png")
    args = _args(base, ckpt, tmp_path / "o1")
    args[args.index("--data") + 1] = str(wrong)
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "do not match the model's 3" in out and "zzz" in out
    assert main(["sweep", "--weights", "none", "--data", str(base / "eval"), "--output", str(tmp_path / "o2")]) == 1
    assert "needs trained weights" in capsys.readouterr().out


def test_agreement_matrix_finds_the_runtime_that_disagrees(tmp_path):
    """Two artifacts equally accurate on paper, one of which predicts different images: the matrix
    shows it as the lowest pair, which top-1 alone would not."""
    import numpy as np

    from effmod.commands.sweep.report import agreement_matrix

    rng = np.random.default_rng(0)
    ref = rng.standard_normal((200, 10)).astype(np.float32)
    ref[np.arange(200), rng.integers(0, 10, 200)] += 4  # clear winners: no near-ties for fp16 storage to flip
    good = ref + 0.01 * rng.standard_normal(ref.shape).astype(np.float32)
    odd = ref.copy()
    odd[:40] = np.roll(odd[:40], 1, axis=1)  # 40 images answered differently
    (tmp_path / "rows").mkdir()
    rows = []
    for name, arr in (("a · fp32", good), ("b · fp16", odd)):
        np.save(tmp_path / "rows" / f"{name[0]}.logits.npy", arr.astype(np.float16))
        rows.append({"label": name, "status": "ok", "logits_file": f"{name[0]}.logits.npy"})
    rows.append({"label": "c · int8", "status": "failed"})
    m = agreement_matrix(rows, tmp_path, ref)
    assert m["labels"] == ["PyTorch fp32", "a · fp32", "b · fp16"]
    assert m["top1_agreement"][0][1] == 100.0 and m["top1_agreement"][0][2] == 80.0
    assert "b · fp16" in m["lowest"]["pair"] and m["lowest"]["top1_agreement"] == 80.0


def test_a_shard_of_garbage_is_a_failed_row_never_merged(setup, tmp_path, monkeypatch):
    """A runtime binding that returns the wrong shape (here: one logit column short) fails its row with
    the shard and the shapes named; the other rows and the reference are unaffected."""
    from effmod.commands.sweep import schedule

    real = schedule.evaluate_shard

    def short(spec, data_key, shard, key, artifact, chunk=64):
        result = real(spec, data_key, shard, key, artifact, chunk)
        if artifact is not None and artifact.endswith(".tflite"):
            result.logits = result.logits[:, :-1]
        return result

    monkeypatch.setattr(schedule, "evaluate_shard", short)
    base, ckpt = setup
    out = tmp_path / "garbage"
    args = _args(base, ckpt, out, "--no-ray")
    args[args.index("--precisions") + 1] = "fp32"
    assert main(args) == 2
    rows = {r["label"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert rows["onnx · fp32"]["status"] == "ok"
    bad = rows["tflite · fp32"]
    assert bad["status"] == "failed" and "returned logits of shape (" in bad["reason"] and ", 2)" in bad["reason"]
    assert not list((out / "shards").glob(f"{bad['key']}/*.npz"))  # never written, never counted


def test_a_failed_reference_stops_the_sweep_and_resume_finishes_it(setup, tmp_path, monkeypatch, capsys):
    """Without the PyTorch reference no row has an accuracy: one line, no row written as failed, and
    --resume (cause gone) computes them, keeping the shards that did finish."""
    from effmod.commands.sweep import schedule

    real = schedule.evaluate_shard

    def broken_reference(spec, data_key, shard, key, artifact, chunk=64):
        if artifact is None and shard.index == 1:
            raise MemoryError("out of memory on the worker")
        return real(spec, data_key, shard, key, artifact, chunk)

    base, ckpt = setup
    out = tmp_path / "ref"
    args = _args(base, ckpt, out, "--no-ray", "--shard-size", "5")
    args[args.index("--precisions") + 1] = "fp32"
    args[args.index("--targets") + 1] = "onnx"
    monkeypatch.setattr(schedule, "evaluate_shard", broken_reference)
    assert main(args) == 1
    text = capsys.readouterr().out
    assert "the PyTorch fp32 reference could not be computed: shard 1: MemoryError: out of memory" in text
    assert not list((out / "rows").glob("*.json"))
    monkeypatch.setattr(schedule, "evaluate_shard", real)
    assert main([*args, "--resume"]) == 0
    result = json.loads((out / "results.json").read_text())
    assert [r["status"] for r in result["rows"]] == ["ok"] and result["engine"]["shards_computed"] < 6
    # --resume over other images (here --limit 6) reuses the export, never a row or shard of the 12
    assert main([*args, "--resume", "--limit", "6"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["images"] + again["unreadable"] == 6 and again["rows"][0]["shards_reused"] == 0
    assert again["rows"][0]["export_cached"] is True
    assert "was computed on other images" in capsys.readouterr().out


def test_sweep_arch_arm64_adds_each_row_s_agreement_on_emulated_cpus(setup, tmp_path, capsys):
    """--arch arm64: each row's artifact also runs in its aarch64 runtime under QEMU (real QEMU and wheels;
    skipped where the ARM toolchain cannot be set up), and the row records top-1 agreement with its x86 run."""
    from effmod.emulation import ensure
    from effmod.errors import EffmodError

    try:
        ensure(("ai-edge-litert",))
    except EffmodError as e:
        pytest.skip(f"the ARM toolchain could not be set up here: {e.one_line()}")
    base, ckpt = setup
    out = tmp_path / "arm"
    argv = ["sweep", "--weights", str(ckpt), "--data", str(base / "eval"), "--calib", str(base / "calib"),
            "--targets", "tflite", "--precisions", "int8", "--calib-sizes", "8", "--fallback", "none",
            "--bench-runs", "0", "--no-ray", "--output", str(out), "--arch", "arm64", "--cpu", "cortex-a53,cortex-a710",
            "--arm-images", "6"]
    assert main(argv) == 0, capsys.readouterr().out[-3000:]
    rows = {r["target"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    arm = rows["tflite"]["arm64"]
    assert arm["status"] == "done" and arm["images"] == 6 and [c["cpu"] for c in arm["cpus"]] == ["cortex-a53",
                                                                                                    "cortex-a710"]
    assert {c["kernel_family"] for c in arm["cpus"]} == {"neon", "i8mm"}
    assert all(0.5 <= c["top1_agreement_vs_x86"] <= 1 for c in arm["cpus"])
    assert "On emulated ARM cores" in (out / "results.md").read_text()
