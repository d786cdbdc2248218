"""effmod train on a tiny synthetic ImageFolder: it learns, it resumes exactly, and its weights
file carries the data config that create_model picks up."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from effmod.cli import main
from effmod.errors import EffmodError
from effmod.eval.datasets import load_labelled_images
from effmod.models import create_model
from effmod.commands.train.loop import TrainConfig, train

CLASSES = ["blue", "green", "red"]


def _make_folder(root, per_class=24, seed=0):
    rng = np.random.default_rng(seed)
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 90, size=(32, 32, 3)).astype(np.uint8)
            img[..., 2 - c] += 150  # blue/green/red dominant channel: learnable in a few steps
            Image.fromarray(img).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("train_data")
    return _make_folder(base / "train"), _make_folder(base / "val", per_class=8, seed=1)


def _cfg(folders, out, **kw):
    train_dir, val_dir = folders
    base = dict(model="efficientmod_xxs", train_dir=str(train_dir), val_dir=str(val_dir), output=str(out),
                img_size=32, epochs=3, batch_size=16, lr=2e-3, warmup_epochs=0.5, threads=2)
    return TrainConfig(**{**base, **kw})


def test_train_learns_and_writes_loadable_weights(folders, tmp_path):
    final = train(_cfg(folders, tmp_path / "run"))
    log = (tmp_path / "run" / "log.json").read_text()
    assert '"epoch": 3' in log and (tmp_path / "run" / "log.md").is_file()
    assert final["val_top1"] >= 90.0, final  # three colour classes: near-perfect within 3 epochs

    model = create_model("efficientmod_xxs", weights=str(tmp_path / "run" / "model.pth"))
    assert model.num_classes == 3
    assert list(model.info.data_config.labels) == CLASSES
    assert model.info.data_config.input_size == (3, 32, 32)
    data = load_labelled_images(folders[1], model.info.data_config)
    with torch.no_grad():
        pred = model(data.normalized(slice(None), model.info.data_config)).argmax(1)
    # the file's weights and the trainer's own evaluation agree
    assert abs(100.0 * (pred == data.labels).float().mean().item() - final["val_top1"]) < 1e-6

    # a class-balanced validation sample travels with the weights, and parity uses it by default
    sample = tmp_path / "run" / "model.val"
    assert model.info.validation_sample == sample
    assert sorted(d.name for d in sample.iterdir()) == CLASSES
    assert all(len(list((sample / c).iterdir())) == 8 for c in CLASSES)  # all 8 val images per class (<= 200)
    assert str(folders[0]) in model.info.data_config.dataset
    from effmod.pipeline import validation_data

    v = validation_data(model, None)
    assert v.in_distribution and len(v.x) == 24 and v.path == str(sample)


def test_resume_continues_exactly(folders, tmp_path):
    full = train(_cfg(folders, tmp_path / "full"))
    train(_cfg(folders, tmp_path / "split", run_epochs=1))
    with pytest.raises(EffmodError, match="differ from the run being resumed"):
        train(_cfg(folders, tmp_path / "split", lr=1e-3), resume=True)
    resumed = train(_cfg(folders, tmp_path / "split"), resume=True)
    assert resumed["epoch"] == 3
    a = torch.load(tmp_path / "full" / "model.pth", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "split" / "model.pth", weights_only=True)["state_dict"]
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
    assert abs(full["val_top1"] - resumed["val_top1"]) < 1e-6


def test_val_classes_must_match(folders, tmp_path):
    other = _make_folder(tmp_path / "other", per_class=2)
    (other / "red").rename(other / "yellow")
    with pytest.raises(EffmodError, match="do not match the model's 3"):
        train(_cfg(folders, tmp_path / "run", val_dir=str(other)))


def test_cli_train_bad_folder_is_one_line(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "missing"), "--output", str(tmp_path / "o")]) == 1
    out = capsys.readouterr().out
    assert "data folder not found" in out and "Traceback" not in out


def test_unknown_builtin_tag_for_model():
    with pytest.raises(EffmodError, match="no built-in 'cifar10' weights for efficientmod_s"):
        create_model("efficientmod_s", weights="cifar10")


def test_fine_tune_from_official_checkpoint_gets_a_new_head(folders, tmp_path):
    from .conftest import GOLDEN_CKPT, require_golden_checkpoint

    require_golden_checkpoint()
    official = create_model("efficientmod_xxs", weights=str(GOLDEN_CKPT))
    with pytest.warns(UserWarning, match="1000-class head; the model has 3 classes"):
        train(_cfg(folders, tmp_path / "ft", weights=str(GOLDEN_CKPT), epochs=1, lr=1e-4))
    tuned = create_model("efficientmod_xxs", weights=str(tmp_path / "ft" / "model.pth"))
    assert tuned.num_classes == 3
    # the body started from the official weights (one small-lr epoch moves them only a little)
    a, b = official.state_dict()["patch_embed.proj.weight"], tuned.state_dict()["patch_embed.proj.weight"]
    assert torch.allclose(a, b, atol=0.05) and not torch.equal(a, b)
