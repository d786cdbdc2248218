"""``effmod package``: fill the iOS / Android demo app templates (``apps/``) with an exported artifact
(``project.py``, ``app_config.py``)."""
from __future__ import annotations

import argparse

from rich.console import Console

from ..base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--app", required=True, choices=["ios", "android"])
    p.add_argument("--artifact", required=True, help=".mlpackage (ios), .tflite or .pte (android), with its manifest beside it")
    p.add_argument("--output", help="where the project goes (default: effmod-app-APP)")
    p.add_argument("--name", default="EffmodDemo", help="app name (letters, digits, _)")
    p.add_argument("--templates", help="effmod's apps/ folder (default: the checkout effmod runs from)")
    p.add_argument("--force", action="store_true", help="replace an existing project")


def run(args: argparse.Namespace, console: Console) -> int:
    from ...console import captured_output
    from .project import package_app

    with console.status("running the artifact on the sample photos for the self-test ..."), \
            captured_output(not args.debug):
        info = package_app(args.app, args.artifact, output=args.output, name=args.name, force=args.force,
                           templates=args.templates)
    test = info["config"]["self_test"]
    console.print(f"[green]✓[/] {args.app} project: {info['project']}")
    console.print(f"  model, config, labels and self-test sample in {info['bundle']}")
    source = (f"{test['source']} (validation sample, true class '{test['true_label']}')" if "true_label" in test
              else test["source_photo"])
    console.print(f"  self-test expects top-1 {test['expected_top1']} '{test['expected_label']}' "
                  f"({test['expected_score']:.1%}) on {source}, computed with {test['computed_with']}")
    opener = "Open the .swiftpm folder in Xcode 15+" if args.app == "ios" else "Open the folder in Android Studio"
    console.print(f"  {opener} and run on a phone. Not built or run here: no Xcode / Android SDK on this machine.")
    return 0


COMMAND = Command("package", "fill the iOS or Android demo app with an exported artifact", add_arguments, run)
