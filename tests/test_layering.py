"""The package layering, read from the source: cli → commands → targets → quantize → deploy → models,
with the shared records and helpers below everyone; nothing imports upward; a runner never imports
its target's converter side; targets are looked up through records, not importlib."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "effmod"

# Highest layer first. A module may import its own layer or any layer below it.
LAYERS = ["cli", "commands", "targets", "quantize", "deploy", "models", "base"]
BASE = {"manifest", "parity", "eval", "console", "errors", "versions", "machine", "precision", "data", "weights", ""}
# Deprecated re-export locations kept for the public API; no effmod module may import them.
FACADES = {"export", "runtime"}


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
    if top in FACADES:
        return "facade"
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
    if mine == "facade":
        return []  # the deprecated re-exports may point anywhere
    bad = []
    for line, imported in effmod_imports(path, me):
        theirs = layer_of(imported)
        if theirs == "facade":
            bad.append(f"{me}:{line} imports the deprecated {imported}; import its new home")
        elif LAYERS.index(theirs) < LAYERS.index(mine):
            bad.append(f"{me}:{line} ({mine}) imports {imported} ({theirs}): "
                       f"imports must run downward ({' → '.join(LAYERS)})")
    return bad


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
    """The check above can fail: upward, deprecated and function-level imports are all reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("from ..commands import export\n\ndef f():\n    from ...targets import TARGETS\n"
                     "    from effmod.runtime import load\n")
    bad = layering_violations(probe, me="effmod.models.probe")
    assert len(bad) == 2 and "imports must run downward" in bad[0] and "deprecated" in bad[1]
    bad = layering_violations(probe, me="effmod.deploy.sub.probe")
    assert any("effmod.targets" in b for b in bad)
