"""The typed recipe in the manifest: written once by export, read back by validate/debug/sweep, and
manifests of effmod 0.1.0 (no recipe entry) still load."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from effmod.errors import EffmodError
from effmod.manifest import Manifest
from effmod.recipe import CalibrationFacts, DeployOptions, FallbackFacts, FallbackStep, Recipe, legacy_recipe


def _int8_recipe() -> Recipe:
    return Recipe(precision="int8", deploy_options=DeployOptions(channel_mean="conv", split_large_dw=True),
                  keep_float=("head",),
                  calibration=CalibrationFacts("/data/cal", 32, 0, 30, "ab" * 32, classes=10, warnings=("w",)),
                  auto_fallback=FallbackFacts(30.0, True, ("stages.3.3",), 31.2, 1000, 0.01,
                                              (FallbackStep((), 25.0, 0.9), FallbackStep(("stages.3.3",), 31.2, 0.95)),
                                              ("stages.3.3", "stem")),
                  quantizer={"tool": "PT2E", "keep_float": ["dw", "norm", "head", "stages.3.3"]})


def test_a_recipe_round_trips_through_json():
    r = _int8_recipe()
    back = Recipe.from_dict(json.loads(json.dumps(r.to_dict())), "m.json")
    assert back == r and back.float_islands == ("head", "stages.3.3")
    view = json.loads(json.dumps(r.quantization_view()))  # what 0.1.0 wrote as "quantization", for apps
    assert view["calibration"]["files_sha256"] == "ab" * 32 and view["auto_fallback"]["kept_float"] == ["stages.3.3"]


def test_newer_or_broken_recipes_are_one_line():
    d = _int8_recipe().to_dict()
    with pytest.raises(EffmodError, match="newer than this effmod"):
        Recipe.from_dict({**d, "version": 99}, "m.json")
    with pytest.raises(EffmodError, match="incomplete recipe"):
        Recipe.from_dict({k: v for k, v in d.items() if k != "calibration"}, "m.json")
    with pytest.raises(EffmodError, match="deploy options this effmod does not know"):
        Recipe.from_dict({**d, "deploy_options": {"fold_everything": True}}, "m.json")


def _legacy(manifest: dict) -> dict:
    """The manifest as effmod 0.1.0 wrote it: version 1, no recipe entry."""
    old = {k: v for k, v in manifest.items() if k != "recipe"}
    old["effmod_manifest"] = 1
    return old


def test_a_manifest_of_the_previous_release_still_loads(small_artifacts):
    for target, path in small_artifacts.items():
        current = json.loads((path.parent / (path.name + ".json")).read_text())
        new = Manifest.from_dict(current, "m.json")
        old = Manifest.from_dict(_legacy(current), "m.json")
        assert old.recipe == new.recipe, target
        assert old.to_dict()["preprocessing"] == current["preprocessing"]
        assert old.to_dict()["versions"] == current["versions"]


def test_the_legacy_reader_keeps_int8_facts_and_names_what_is_too_old():
    q = {"tool": "PT2E", "keep_float": ["norm"], "io": "float",
         "calibration": {"source": "/cal", "n_images": 6, "files_sha256": "cd" * 32, "size": 256, "seed": 0},
         "auto_fallback": None}
    d = {"precision": "int8", "deploy_form": {"options": {"scaled_norm": True}}, "quantization": q,
         "input": {"dtype": "float32", "shape": [1, 3, 64, 64]}}
    r = legacy_recipe(d, "m.json")
    assert r.calibration == CalibrationFacts("/cal", 256, 0, 6, "cd" * 32) and r.keep_float == ("norm",)
    assert r.deploy_options == DeployOptions(scaled_norm=True) and r.quantizer == {"tool": "PT2E", "keep_float": ["norm"],
                                                                                    "io": "float"}
    # an export of before the file-list hash: the recipe loads, a rebuild says why it cannot
    old = legacy_recipe({**d, "quantization": {**q, "calibration": {"source": "/cal", "n_images": 6}}}, "m.json")
    assert old.calibration is None


def test_a_rebuild_of_a_recipe_without_calibration_facts_is_one_line(small_artifacts):
    from effmod.pipeline.rebuild import recorded_calibration

    m = Manifest.read(small_artifacts["onnx"])
    m = replace(m, recipe=replace(m.recipe, precision="int8", calibration=None))
    with pytest.raises(EffmodError, match="does not record its calibration images"):
        recorded_calibration(m, m.data_config(), None)
