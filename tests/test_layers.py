"""The layers import one way: core never loads Qt or torch; model and cli never load Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import segstudio


def _modules(package: str) -> list[str]:
    path = [str(segstudio.__path__[0]) + "/" + "/".join(package.split(".")[1:])]
    return [f"{package}.{info.name}" for info in pkgutil.iter_modules(path)]


def _all_modules(package: str) -> list[str]:
    """Every module of ``package`` and of its subpackages (``application.training`` and the like)."""
    root = [str(segstudio.__path__[0]) + "/" + "/".join(package.split(".")[1:])]
    return [info.name for info in pkgutil.walk_packages(root, prefix=f"{package}.")]


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
    loaded = _loaded_after_import(["segstudio.application"] + _all_modules("segstudio.application"))
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
    from pathlib import Path

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
    modules = (["segstudio.model.train_types"] + _modules("segstudio.gui.docks")
               + _modules("segstudio.gui.window"))
    assert "torch" not in _loaded_after_import(modules)
