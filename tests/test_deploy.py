import copy

import pytest
import torch
import torch.nn as nn

from effmod.deploy import fold_batchnorm, reparameterize
from effmod.deploy.modules import DeployEfficientMod
from effmod.deploy.graph_stats import export_op_summary
from effmod.models import create_model, list_models

from .conftest import GOLDEN_CKPT, GOLDEN_IO, needs_shared, perturb


@pytest.fixture(scope="module")
def x():
    """The golden photos when ../shared is here, else a fixed random batch (the check is the same)."""
    if GOLDEN_IO.is_file():
        return torch.load(GOLDEN_IO)["input"]
    return torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", list_models())
def test_deploy_form_matches_original(name, x):
    model = perturb(create_model(name))
    deployed, report = reparameterize(model, report=True)
    with torch.no_grad():
        err = (model(x) - deployed(x)).abs().max().item()
    assert err <= 1e-4, f"{name}: deploy form differs by {err}"
    assert isinstance(deployed, DeployEfficientMod)
    assert report["layerscale_folded"] > 0 and report["repeat_to_broadcast"] > 0
    key = "batchnorm_folded" if name.endswith("_bn") else "layernorm_affine_folded"
    assert report[key] > 0


@needs_shared
def test_deploy_form_of_golden_checkpoint(golden):
    deployed = reparameterize(create_model("efficientmod_xxs", weights=GOLDEN_CKPT))
    with torch.no_grad():
        assert (deployed(golden["input"]) - golden["logits"]).abs().max().item() <= 1e-5


def test_reparameterize_is_pure():
    model = perturb(create_model("efficientmod_xxs_bn"))
    before = copy.deepcopy(model.state_dict())
    reparameterize(model)
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert isinstance(model.layers[0].blocks[0].norm, nn.BatchNorm1d)


def test_deploy_form_removes_permutes_repeats_and_norm_ops():
    model = create_model("efficientmod_xxs")
    before = export_op_summary(model)
    after = export_op_summary(reparameterize(model))
    assert before["permute/transpose"] >= 40 and before["repeat"] == 6 and before["layer_norm"] == 23
    # 3 attention blocks need 2 transposes each; nothing else permutes.
    assert after["permute/transpose"] == 6
    assert after["repeat"] == 0 and after["layer_norm"] == 0 and after["linear"] == 1


def test_bn_deploy_form_has_no_batch_norm():
    model = create_model("efficientmod_xxs_bn")
    assert export_op_summary(model)["batch_norm"] == 23
    assert export_op_summary(reparameterize(model))["batch_norm"] == 0


def test_fold_batchnorm_on_any_model():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Conv2d(8, 8, 3, groups=8, bias=False), nn.BatchNorm2d(8), nn.Flatten(),
                        nn.Linear(8 * 30 * 30, 4), nn.BatchNorm1d(4))
    perturb(net)
    net.eval()
    folded = fold_batchnorm(net)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (net(x) - folded(x)).abs().max().item() <= 1e-5
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in folded.modules())
    assert any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())  # input untouched


def test_fold_batchnorm_keeps_bn_it_cannot_fold():
    net = nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3)).eval()
    assert any(isinstance(m, nn.BatchNorm2d) for m in fold_batchnorm(net).modules())
