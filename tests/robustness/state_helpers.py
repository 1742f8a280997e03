"""Shared by the test_state_* files: checksums of every file under some folders, and the window
fixtures of tests/gui/conftest.py (loaded under a name of its own, since pytest only offers them to
tests/gui)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

GUI_TESTS = Path(__file__).resolve().parents[1] / "gui"
sys.path.insert(0, str(GUI_TESTS))  # gui_project, gui_helpers


def checksums(*folders: Path) -> dict[str, str]:
    """sha256 of every file (links not followed) under ``folders``, by path; links by their target."""
    result = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                path = Path(root) / name
                if path.is_symlink():
                    result[str(path)] = "link:" + os.readlink(path)
                elif not path.is_file():  # a pipe: reading it would block
                    result[str(path)] = "special"
                else:
                    result[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def _gui_conftest():
    name = "state_tests_gui_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, GUI_TESTS / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_conftest = _gui_conftest()
fake_dialogs = _conftest.fake_dialogs
settings = _conftest.settings
make_window = _conftest.make_window
