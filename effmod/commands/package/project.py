"""Copy an app template, drop in the artifact + config + labels + self-test sample, atomically."""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ...errors import EffmodError
from ...eval.images import load_rgb, normalized_chw, resize_crop, sample_photo_paths
from ...manifest import Manifest
from ...targets import load_runner
from .app_config import APPS, CONFIG_FILE, LABELS_FILE, SELFTEST_FILE, build_app_config, check_artifact_fits_app, labels_for

DEFAULT_NAME = "EffmodDemo"
# Files of each template whose text carries the app's name (display name, Gradle root project).
NAMED_FILES = {"ios": ["Package.swift"], "android": ["settings.gradle.kts", "app/src/main/res/values/strings.xml"]}


def templates_root() -> Path:
    """apps/ of the checkout effmod runs from (editable install or source tree)."""
    root = Path(__file__).resolve().parents[3] / "apps"
    if not (root / "ios").is_dir() or not (root / "android").is_dir():
        raise EffmodError(f"app templates not found at {root}",
                          hint="run effmod package from a source checkout (pip install -e .), or pass --templates DIR")
    return root


def _candidates(manifest: Manifest) -> list[tuple[Path, int | None]]:
    """Images the self-test may use, with their true class: the validation sample the artifact's parity
    ran on when it fits the model (built-in weights, effmod train checkpoints), else the stock photos."""
    folder = Path(manifest.parity.data_path) if manifest.parity.data_path else None
    labels = list(manifest.labels or [])
    if manifest.parity.in_distribution and folder is not None and folder.is_dir() and labels:
        found = [(f, labels.index(d.name)) for d in sorted(folder.iterdir()) if d.is_dir() and d.name in labels
                 for f in sorted(d.iterdir()) if f.suffix.lower() in (".jpg", ".jpeg", ".png")]
        if found:
            return found
    return [(path, None) for path in sample_photo_paths()]


def choose_self_test(artifact: Path, manifest: Manifest, labels: list[str]) -> tuple[object, dict]:
    """Run the artifact here on each candidate image, cropped exactly as the model sees it, and keep the
    one with the clearest top-1 (largest softmax margin) - among validation images, the clearest whose
    top-1 is its true class - so the phone's verdict is robust to small numeric differences between
    runtimes. Returns (PIL crop, self_test config entry)."""
    runner = load_runner(artifact, input_spec=manifest.input)
    data_config = manifest.data_config()
    best = None
    for path, truth in _candidates(manifest):
        crop = resize_crop(load_rgb(path), data_config)
        logits = np.asarray(runner(normalized_chw(crop, data_config)[None]), np.float64)[0]
        prob = np.exp(logits - logits.max())
        prob /= prob.sum()
        order = np.argsort(-prob)
        margin = float(prob[order[0]] - prob[order[1]])
        key = (truth is None or int(order[0]) == truth, margin)  # a correct answer first, then the clearest
        if best is None or key > best[0]:
            best = (key, crop, path, truth, margin, int(order[0]), float(prob[order[0]]))
    _, crop, path, truth, margin, top1, score = best
    test = {"image": SELFTEST_FILE, "preprocessed": True, "source_photo": path.name,
            "expected_top1": top1, "expected_label": labels[top1], "expected_score": round(score, 6),
            "margin": round(margin, 6), "computed_with": runner.engine}
    if truth is not None:  # an image of the model's own validation sample, with its true class
        test.update(source=f"{path.parent.parent.name}/{path.parent.name}/{path.name}", true_label=labels[truth])
    return crop, test


def package_app(app: str, artifact: str | Path, output: str | Path | None = None, name: str = DEFAULT_NAME,
                force: bool = False, templates: str | Path | None = None) -> dict:
    """Write a ready-to-open project to ``output``/<project> and return its summary."""
    artifact = Path(artifact)
    if not artifact.exists():
        raise EffmodError(f"artifact not found: {artifact}", hint="export one with effmod export")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,40}", name):
        raise EffmodError(f"--name '{name}' is not a valid app name", hint="letters, digits and _, starting with a letter")
    manifest = Manifest.read(artifact)
    check_artifact_fits_app(app, artifact, manifest)
    spec = APPS[app]
    template = (Path(templates) if templates else templates_root()) / spec.template / spec.project
    if not template.is_dir():
        raise EffmodError(f"app template not found: {template}", hint="pass --templates pointing at effmod's apps/")
    project_name = spec.project.replace(DEFAULT_NAME, name)
    out_root = Path(output or f"effmod-app-{app}")
    dest = out_root / project_name
    if dest.exists() and not force:
        raise EffmodError(f"{dest} already exists", hint="pass --force to replace it, or another --output")

    labels = labels_for(manifest)
    crop, self_test = choose_self_test(artifact, manifest, labels)
    model_file = "model" + artifact.suffix
    config = build_app_config(app, artifact, manifest, model_file, self_test)

    out_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_root, prefix=".effmod-package-") as tmp:
        stage = Path(tmp) / project_name
        shutil.copytree(template, stage, ignore=shutil.ignore_patterns("build", ".gradle", ".build", "*.iml"))
        for rel in NAMED_FILES[app]:
            f = stage / rel
            f.write_text(f.read_text().replace(DEFAULT_NAME, name))
        bundle = stage / spec.bundle_dir
        bundle.mkdir(parents=True, exist_ok=True)
        (bundle / "README.md").unlink(missing_ok=True)  # the template's "filled by effmod package" note
        if artifact.is_dir():
            shutil.copytree(artifact, bundle / model_file)
        else:
            shutil.copy2(artifact, bundle / model_file)
        # The manifest travels too, so `effmod validate` can re-check the packaged copy.
        (bundle / f"{model_file}.json").write_text(json.dumps({**manifest.to_dict(), "artifact": model_file}, indent=2) + "\n")
        (bundle / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        (bundle / LABELS_FILE).write_text("\n".join(labels) + "\n")
        crop.save(bundle / SELFTEST_FILE)
        if dest.exists():
            shutil.rmtree(dest)
        stage.rename(dest)
    return {"app": app, "project": str(dest), "bundle": str(dest / spec.bundle_dir), "config": config}
