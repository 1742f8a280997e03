"""What the layers load when imported, checked in a fresh interpreter.

``lint-imports`` (contracts in pyproject.toml) checks the import graph: the layers, and no Qt below
the window. It cannot tell an import at module level from one inside a function, so the rule that
application imports torch only inside functions (importing it freezes the window for a second) is
checked here, by importing every application module and looking at sys.modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import segstudio


def _modules(package: str) -> list[str]:
    """Every module of ``package``, subpackages included (read from the files, nothing imported)."""
    folder = Path(segstudio.__path__[0]).joinpath(*package.split(".")[1:])
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and "__pycache__" not in parts:
            names.append(".".join((package, *parts)))
    return names


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in modules)
        + "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in result.stdout.split()}


def test_core_imports_neither_qt_nor_torch() -> None:
    loaded = _loaded_after_import(["segstudio.core"] + _modules("segstudio.core"))
    assert "PySide6" not in loaded
    assert "torch" not in loaded


@pytest.mark.parametrize("package", ["segstudio.model", "segstudio.cli"])
def test_model_and_cli_never_import_qt(package: str) -> None:
    loaded = _loaded_after_import([package] + _modules(package))
    assert "PySide6" not in loaded


def test_application_layer_imports_neither_qt_nor_torch() -> None:
    loaded = _loaded_after_import(["segstudio.application"] + _modules("segstudio.application"))
    assert "PySide6" not in loaded
    assert "torch" not in loaded


# The window turns events into calls and results into pixels. Array arithmetic belongs to the
# application layer or the core, where it is tested without a screen; the only gui code that works
# on arrays is the painting itself (gui/canvas) and the loader that hands pixel buffers to Qt.
ARRAY_WORK_ALLOWED = ("segstudio/gui/canvas/", "segstudio/gui/workers/image_loader.py")


def _numpy_uses(path) -> list[str]:
    """``np.<name>`` uses outside type annotations in one file."""
    import ast

    tree = ast.parse(path.read_text())
    in_annotations: set[int] = set()
    for node in ast.walk(tree):
        notes = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            args += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
            notes = [a.annotation for a in args if a.annotation is not None]
            notes += [node.returns] if node.returns is not None else []
        elif isinstance(node, ast.AnnAssign):
            notes = [node.annotation]
        for note in notes:
            in_annotations.update(id(n) for n in ast.walk(note))
    return [
        f"{path.name}:{node.lineno} np.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "np"
        and id(node) not in in_annotations
    ]


def test_the_window_does_no_array_work_outside_painting() -> None:
    root = Path(segstudio.__path__[0]).parent
    uses = []
    for path in sorted((root / "segstudio" / "gui").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if not relative.startswith(ARRAY_WORK_ALLOWED):
            uses += _numpy_uses(path)
    assert uses == [], "move this array work to segstudio/application or segstudio/core"


def test_training_types_and_window_modules_load_no_torch() -> None:
    """The window builds a TrainConfig and shows progress on the GUI thread, where importing torch
    would freeze it for about a second: the types and every dock and window module stay torch-free
    (a module that needs torch imports it inside a function)."""
    modules = (["segstudio.model.training.types"] + _modules("segstudio.gui.docks")
               + _modules("segstudio.gui.window"))
    assert "torch" not in _loaded_after_import(modules)


def _import_cycles():
    """tests/tools/import_cycles.py (a script, outside the collected tests), loaded as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent / "tools" / "import_cycles.py"
    spec = importlib.util.spec_from_file_location("segstudio_import_cycles", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    """An import inside a function hides a cycle from Python, not from the reader: the model layer had
    two (weights.hub <-> weights.hub_import, sam.onnx_encoder <-> sam.onnx_decoder). Every import
    counts here, module level or not, in every package."""
    found = _import_cycles().cycles()
    assert found == [], "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in found)


def test_the_cycle_check_sees_an_import_inside_a_function(tmp_path) -> None:
    package = tmp_path / "segstudio"
    (package / "room").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "room" / "__init__.py").write_text("")
    (package / "room" / "a.py").write_text("from . import b\n")
    (package / "room" / "b.py").write_text("def later():\n    from .a import thing\n")
    (package / "room" / "c.py").write_text("import segstudio.room.a\n")
    tool = _import_cycles()
    assert tool.cycles(root=tmp_path) == [["segstudio.room.a", "segstudio.room.b", "segstudio.room.a"]]
    assert tool.cycles(["segstudio.other"], root=tmp_path) == []
