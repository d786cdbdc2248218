import json
import warnings

import pytest
import torch

from effmod.errors import EffmodError
from effmod.models import create_model, imagenet_labels, list_models

from .conftest import GOLDEN_CKPT, LAYOUT, needs_shared

OFFICIAL = ["efficientmod_xxs", "efficientmod_xs", "efficientmod_s", "efficientmod_s_conv"]
PARAMS = {"efficientmod_xxs": 4_736_264, "efficientmod_xs": 6_627_544,
          "efficientmod_s": 12_897_184, "efficientmod_s_conv": 12_872_336}


def test_registry_lists_all_eight_variants():
    assert list_models() == sorted(OFFICIAL + [n + "_bn" for n in OFFICIAL])


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(EffmodError) as e:
        create_model("efficientmod_xxxl")
    assert "efficientmod_xxxl" in e.value.message and "efficientmod_s_conv" in e.value.hint


@pytest.mark.parametrize("name", OFFICIAL)
def test_parameter_counts_match_the_paper(name):
    assert sum(p.numel() for p in create_model(name).parameters()) == PARAMS[name]


@needs_shared
@pytest.mark.parametrize("name", OFFICIAL)
def test_state_dict_matches_official_layout(name):
    ref = json.loads(LAYOUT.read_text())[name]
    mine = [[k, list(v.shape)] for k, v in create_model(name).state_dict().items()]
    assert mine == ref["state_dict"]
    assert ref["num_params"] == PARAMS[name]


@needs_shared
def test_golden_checkpoint_reproduces_official_logits(golden):
    model = create_model("efficientmod_xxs", weights=GOLDEN_CKPT)
    with torch.no_grad():
        out = model(golden["input"])
    assert (out - golden["logits"]).abs().max().item() <= 1e-5
    assert model.info.weights.sha256 and len(model.info.weights.sha256) == 64


def _golden_state():
    return torch.load(GOLDEN_CKPT)["state_dict"]


@needs_shared
@pytest.mark.parametrize("wrap", ["raw", "state_dict", "model", "state_dict_ema", "module_prefix", "safetensors"])
def test_checkpoint_wrappers_load(tmp_path, golden, wrap):
    sd = _golden_state()
    if wrap == "safetensors":
        from safetensors.torch import save_file
        path = tmp_path / "w.safetensors"
        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    else:
        obj = {"raw": sd, "module_prefix": {"model": {f"module.{k}": v for k, v in sd.items()}}}.get(wrap, {wrap: sd})
        path = tmp_path / "w.pth.tar"
        torch.save(obj, path)
    model = create_model("efficientmod_xxs", weights=path)
    with torch.no_grad():
        assert (model(golden["input"]) - golden["logits"]).abs().max().item() <= 1e-5


@needs_shared
def test_other_num_classes_loads_everything_but_the_head(golden):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = create_model("efficientmod_xxs", num_classes=10, weights=GOLDEN_CKPT)
    assert any("1000-class head" in str(w.message) for w in caught)
    assert model.head.weight.shape == (10, 256)
    sd = _golden_state()
    assert torch.equal(model.patch_embed.proj.weight, sd["patch_embed.proj.weight"])
    assert torch.equal(model.norm.bias, sd["norm.bias"])
    assert model.info.data_config.labels is None


@needs_shared
def test_mismatched_checkpoint_gives_a_table(tmp_path):
    sd = _golden_state()
    del sd["layers.0.blocks.0.gamma_1"]
    sd["layers.1.blocks.0.mlp.fc1.weight"] = torch.zeros(7, 7)
    sd["extra.weight"] = torch.zeros(1)
    path = tmp_path / "bad.pth"
    torch.save(sd, path)
    with pytest.raises(EffmodError) as e:
        create_model("efficientmod_xxs", weights=path)
    assert "1 missing, 1 unexpected, 1 mis-shaped" in e.value.message
    for key in ("layers.0.blocks.0.gamma_1", "layers.1.blocks.0.mlp.fc1.weight", "extra.weight", "7x7", "64x64"):
        assert key in e.value.details


def test_wrong_architecture_is_reported_not_crashed(tmp_path):
    path = tmp_path / "xs.pth"
    torch.save(create_model("efficientmod_xs").state_dict(), path)
    with pytest.raises(EffmodError, match="does not fit efficientmod_xxs"):
        create_model("efficientmod_xxs", weights=path)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04garbage"])
def test_corrupt_file_is_one_clear_line(tmp_path, content):
    path = tmp_path / "corrupt.pth"
    path.write_bytes(content)
    with pytest.raises(EffmodError) as e:
        create_model("efficientmod_xxs", weights=path)
    assert "not a PyTorch checkpoint" in e.value.message and "\n" not in e.value.one_line()


def test_non_tensor_pickle_is_refused(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(EffmodError, match="holds no tensor state dict"):
        create_model("efficientmod_xxs", weights=path)


def test_missing_weights_file():
    with pytest.raises(EffmodError, match="weights file not found"):
        create_model("efficientmod_xxs", weights="/nonexistent/w.pth")


@pytest.mark.parametrize("size", [64, 160, 256])
def test_other_input_sizes(size):
    model = create_model("efficientmod_xxs", num_classes=10, img_size=size)
    with torch.no_grad():
        assert model(torch.randn(1, 3, size, size)).shape == (1, 10)
    assert model.info.data_config.input_size == (3, size, size)


def test_input_size_must_be_multiple_of_32():
    with pytest.raises(EffmodError, match="multiple of 32"):
        create_model("efficientmod_xxs", img_size=100)


def test_data_config_travels_with_the_model():
    cfg = create_model("efficientmod_xxs").info.data_config
    assert cfg.mean == (0.485, 0.456, 0.406) and cfg.std == (0.229, 0.224, 0.225)
    assert cfg.input_size == (3, 224, 224) and len(cfg.labels) == 1000
    labels = imagenet_labels()
    assert labels[0] == "tench" and labels[207] == "golden retriever" and labels[999] == "toilet tissue"


def test_bn_variant_is_trainable():
    model = create_model("efficientmod_xxs_bn", num_classes=10).train()
    before = model.patch_embed.norm.running_mean.clone()
    loss = model(torch.randn(2, 3, 64, 64)).logsumexp(1).mean()
    loss.backward()
    assert model.patch_embed.proj.weight.grad is not None
    assert not torch.equal(before, model.patch_embed.norm.running_mean)
    assert not any(isinstance(m, torch.nn.LayerNorm) for m in model.modules())


@pytest.mark.parametrize("name,gmacs", [("efficientmod_xxs", 0.58), ("efficientmod_xs", 0.77),
                                        ("efficientmod_s", 1.40), ("efficientmod_s_conv", 1.47)])
def test_macs_match_the_paper(name, gmacs):
    """The counter the latency benchmark uses for GMAC/s reproduces the paper's GMACs at 224."""
    from effmod.deploy import reparameterize
    from effmod.deploy.graph_stats import count_macs

    model = create_model(name)
    x = torch.randn(1, 3, 224, 224)
    assert count_macs(model, x) / 1e9 == pytest.approx(gmacs, abs=0.005)
    assert count_macs(reparameterize(model), x) == count_macs(model, x)  # the deploy form does the same work
