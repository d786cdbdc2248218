"""The package layering, read from the source: cli → commands → pipeline → targets → quantize → deploy →
models, with the shared records and helpers below everyone; nothing imports upward; commands never import
each other; no code outside targets/ compares a target's name; a runner never imports its target's
converter side; targets are looked up through records, not importlib; functions and modules stay small."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "effmod"

# Highest layer first. A module may import its own layer or any layer below it.
LAYERS = ["cli", "commands", "pipeline", "emulation", "targets", "quantize", "deploy", "models", "base"]
BASE = {"manifest", "cost", "recipe", "placement", "interrupts", "parity", "eval", "console", "errors", "versions", "machine", "precision",
        "data", "weights", ""}


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str:
    top = module.split(".")[1] if module.count(".") else ""
    if top in BASE:
        return "base"
    if top in LAYERS:
        return top
    raise AssertionError(f"{module}: effmod.{top} has no layer; add it to LAYERS or BASE in this test")


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in ast.walk(node):
                if hasattr(child, "lineno"):
                    lines.add(child.lineno)
    return lines


def effmod_imports(path: Path, me: str | None = None) -> list[tuple[int, str]]:
    """(line, imported effmod module) for every import in the file, function-level ones included."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    here = (me or module_name(path)).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "effmod"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "effmod":
                continue
            for a in node.names:  # "from . import x": x may be a submodule or a name in the package
                sub = f"{target}.{a.name}"
                found.append((node.lineno, sub if _is_module(sub) else target))
    return found


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (PKG / rel).with_suffix(".py").is_file() or (PKG / rel / "__init__.py").is_file()


SOURCES = sorted(PKG.rglob("*.py"))


def test_every_module_has_a_layer():
    for path in SOURCES:
        layer_of(module_name(path))


def layering_violations(path: Path, me: str | None = None) -> list[str]:
    me = me or module_name(path)
    mine = layer_of(me)
    bad = []
    for line, imported in effmod_imports(path, me):
        theirs = layer_of(imported)
        if mine == theirs == "commands" and _command_of(me) and _command_of(imported) \
                and _command_of(me) != _command_of(imported):
            bad.append(f"{me}:{line} imports {imported}: commands never import each other (share through a library "
                       "below commands/)")
        elif LAYERS.index(theirs) < LAYERS.index(mine):
            bad.append(f"{me}:{line} ({mine}) imports {imported} ({theirs}): "
                       f"imports must run downward ({' → '.join(LAYERS)})")
    return bad


def _command_of(module: str) -> str | None:
    """``effmod.commands.X...`` -> X (None for the package itself and the shared base)."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[2] != "base" else None


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_only_run_downward(path):
    assert layering_violations(path) == []


@pytest.mark.parametrize("runner", sorted(PKG.glob("targets/*/runner.py")), ids=lambda p: p.parent.name)
def test_a_runner_never_imports_its_converter_side(runner):
    target = module_name(runner.parent)
    converter_side = {f"{target}.convert", f"{target}.quantize", f"{target}.graph"}
    for line, imported in effmod_imports(runner):
        assert not any(imported == c or imported.startswith(c + ".") for c in converter_side), \
            f"{runner.relative_to(PKG)}:{line} imports {imported}: an app or phone has only the runner side"


def test_targets_are_records_not_importlib_strings():
    for path in (PKG / "targets").rglob("*.py"):
        assert "importlib" not in path.read_text(), f"{path.relative_to(PKG)} uses importlib"
    from effmod.targets import TARGETS, by_name, for_artifact

    assert [t.name for t in TARGETS] == ["coreml", "tflite", "executorch", "onnx"]
    for t in TARGETS:
        assert by_name(t.name) is t and for_artifact(f"model{t.suffix}") is t
        assert t.default_precision in t.precisions and callable(t.convert) and callable(t.runner)


def test_the_checker_catches_an_upward_import(tmp_path):
    """The check above can fail: upward, function-level and command-to-command imports are all reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("from ..commands import export\n\ndef f():\n    from ...targets import TARGETS\n")
    bad = layering_violations(probe, me="effmod.models.probe")
    assert len(bad) == 1 and "imports must run downward" in bad[0]
    bad = layering_violations(probe, me="effmod.deploy.sub.probe")
    assert any("effmod.targets" in b for b in bad)
    probe.write_text("from .export import COMMAND\nfrom .base import Command\nfrom ..pipeline import run_export\n")
    bad = layering_violations(probe, me="effmod.commands.probe")
    assert len(bad) == 1 and "commands never import each other" in bad[0]


# A target's name in a comparison (`x.name == "onnx"`, `"tflite" in (...)`) or a table keyed by them
# (package pins that share a name, such as "onnx", are not).
TARGET_NAMES = ("coreml", "tflite", "executorch", "onnx")


def target_name_comparisons(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            for part in parts:
                values = part.elts if isinstance(part, (ast.Tuple, ast.List, ast.Set)) else [part]
                if any(isinstance(v, ast.Constant) and v.value in TARGET_NAMES for v in values):
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Dict):  # a table keyed by target names is the same thing
            if sum(isinstance(k, ast.Constant) and k.value in TARGET_NAMES for k in node.keys) >= 3:
                found.append(f"line {node.lineno}: a dict keyed by target names")
    return found


@pytest.mark.parametrize("path", [p for p in SOURCES if "targets" not in p.relative_to(PKG).parts],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_no_target_name_comparisons_outside_targets(path):
    """Generic code asks a Target record for what it can do; it never compares a target's name."""
    assert target_name_comparisons(path.read_text()) == []


def test_the_name_check_can_fail():
    assert len(target_name_comparisons('if t.name == "coreml" or p in ("onnx", "x"):\n    pass\n')) == 2
    assert len(target_name_comparisons('c = {"onnx": 1, "tflite": 2, "coreml": 3}\n')) == 1


def too_long(path: Path, max_function: int = 80, max_module: int = 450) -> list[str]:
    src = path.read_text()
    out = [f"module: {src.count(chr(10))} lines"] if src.count("\n") > max_module else []
    for n in ast.walk(ast.parse(src)):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > max_function:
            out.append(f"{n.name}: {n.end_lineno - n.lineno + 1} lines")
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_functions_and_modules_stay_small(path):
    """The structure rule: functions ≤ 80 lines, modules ≤ 450."""
    assert too_long(path) == []


def test_every_command_is_registered_once():
    from effmod.commands import COMMANDS

    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names)) and {"export", "validate", "debug", "bench", "sweep"} <= set(names)
    for path in (PKG / "commands").iterdir():
        if path.name.startswith("_") or path.name == "base.py" or path.suffix not in (".py", ""):
            continue
        module = importlib.import_module(f"effmod.commands.{path.stem}")
        assert getattr(module, "COMMAND", None) in COMMANDS, f"commands/{path.name} defines no registered COMMAND"
