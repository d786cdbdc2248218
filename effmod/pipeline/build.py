"""Build one artifact from a recipe: the deploy form with the target's options, INT8 auto-fallback when
asked, then the target's converter, into a build folder. Export builds with a fresh recipe; validate and
debug rebuild with the one a manifest records."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..console import Reporter
from ..deploy import reparameterize
from ..errors import EffmodError, wrapped
from ..recipe import FallbackFacts, FallbackStep, Recipe
from ..targets import ExportJob, Target, TargetResult
from .inputs import ExportInputs


@dataclass(frozen=True)
class Built:
    """A converted artifact in its build folder, before parity; ``recipe`` holds what the build learnt."""

    artifact: Path
    result: TargetResult
    recipe: Recipe
    deploy_report: dict | None
    seconds: float


def deploy_model(model: torch.nn.Module, recipe: Recipe) -> tuple[torch.nn.Module, dict | None]:
    """The module to convert and the deploy form's report (rewrite counts and options)."""
    if not recipe.deploy_form:
        return model, None
    deploy, report = reparameterize(model, report=True, options=recipe.deploy_options)
    return deploy, {**report, "options": asdict(recipe.deploy_options)}


def _auto_fallback(model, target: Target, inputs: ExportInputs, recipe: Recipe, goal_db: float,
                   reporter: Reporter) -> FallbackFacts:
    from ..quantize.keep_float import merge_patterns
    from ..quantize.sensitivity import auto_fallback, split_calibration

    fit, eval_x = split_calibration(inputs.calib.images)
    base = merge_patterns(target.default_keep_float or (), list(recipe.keep_float))
    with reporter.progress(f"{target.name}: INT8 sensitivity + auto-fallback to {goal_db:g} dB", total=1) as update:
        r = auto_fallback(model, inputs.example, fit, eval_x, base, goal_db, progress=update)
    facts = FallbackFacts(min_sqnr_db=r["min_sqnr_db"], reached=r["reached"], kept_float=tuple(r["kept_float"]),
                          sqnr_db=r["sqnr_db"], float_params=r["float_params"],
                          float_params_fraction=r["float_params_fraction"],
                          history=tuple(FallbackStep(tuple(h["kept_float"]), h["sqnr_db"], h["top1_agreement"])
                                        for h in r["history"]), ranking=tuple(r["ranking"]))
    kept = ", ".join(facts.kept_float) or "nothing"
    reporter.warn(f"{target.name}: auto-fallback kept {kept} in float: SQNR {facts.history[0].sqnr_db:.1f} -> "
                  f"{facts.sqnr_db:.1f} dB, {facts.float_params_fraction:.0%} of the weights stay float"
                  + ("" if facts.reached else f" (target {goal_db:g} dB NOT reached)"))
    return facts


def convert(target: Target, job: ExportJob, path: Path) -> TargetResult:
    """The target's converter; a foreign failure becomes one line naming the target."""
    try:
        return target.convert(job, path)
    except Exception as e:  # noqa: BLE001 - converter failures are reported, not raised raw
        raise wrapped(e, f"{target.name}: conversion failed", hint="rerun with --debug for the converter's traceback") from e


def build_artifact(model: torch.nn.Module, target: Target, recipe: Recipe, inputs: ExportInputs, name: str,
                   build_dir: Path, reporter: Reporter, fallback_goal_db: float | None = None) -> Built:
    """Convert ``model`` (an EfficientMod with its ``info``) as ``recipe`` says into ``build_dir/name``.
    ``fallback_goal_db``: export's --auto-fallback (a rebuild uses the blocks its recipe recorded)."""
    to_convert, deploy_report = deploy_model(model, recipe)
    int8 = recipe.precision == "int8"
    if int8 and inputs.calib is None:
        raise EffmodError(f"{target.name} INT8 needs calibration images", hint="pass --calib DIR")
    if int8:
        recipe = recipe.with_facts(calibration=inputs.calib.facts())
    if int8 and fallback_goal_db is not None:
        recipe = recipe.with_facts(auto_fallback=_auto_fallback(to_convert, target, inputs, recipe, fallback_goal_db,
                                                                reporter))
    job = ExportJob(model=to_convert, example=inputs.example, precision=recipe.precision,
                    data_config=model.info.data_config, model_name=model.info.name, image_input=recipe.image_input,
                    dynamic_batch=recipe.dynamic_batch, calib=inputs.calib.images if int8 else None,
                    keep_float=recipe.float_islands, io=recipe.io)
    artifact = build_dir / name
    t0 = time.perf_counter()
    with reporter.stage(f"{target.name}: convert"):
        result = convert(target, job, artifact)
    recipe = recipe.with_facts(quantizer=result.quantizer)
    return Built(artifact, result, recipe, deploy_report, time.perf_counter() - t0)
