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


def test_training_types_and_window_modules_load_no_torch() -> None:
    """The window builds a TrainConfig and shows progress on the GUI thread, where importing torch
    would freeze it for about a second: the types and every dock and window module stay torch-free
    (a module that needs torch imports it inside a function)."""
    modules = (["segstudio.model.train_types"] + _modules("segstudio.gui.docks")
               + _modules("segstudio.gui.window"))
    assert "torch" not in _loaded_after_import(modules)
