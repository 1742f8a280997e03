"""Shared test set-up: headless Qt, a small thread count, and the path to the shared fixtures."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
# No test reads the user's Hugging Face cache or the network: an empty cache of the suite's own,
# offline (the hub tests point huggingface_hub at their loopback server themselves).
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="segstudio-tests-hf-")
os.environ["SEGSTUDIO_CACHE"] = tempfile.mkdtemp(prefix="segstudio-tests-cache-")  # SAM ONNX exports
os.environ.pop("HF_HUB_CACHE", None)
os.environ["HF_HUB_OFFLINE"] = "1"

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
GUI_TESTS = Path(__file__).resolve().parent / "gui"
# The Qt fixtures: a test that uses one, even through another fixture, needs Qt (the window
# fixtures, make_window and window, use qtbot; they are named for whoever adds one without it).
QT_FIXTURES = {"qtbot", "qapp", "make_window", "window"}


def pytest_collection_modifyitems(config, items) -> None:
    """``gui`` on every test under tests/gui and every test using a Qt fixture, so that nobody has
    to remember it: ``pytest -m "not slow and not gui"`` is the fast tier."""
    for item in items:
        if item.path.is_relative_to(GUI_TESTS) or QT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def shared_fixtures() -> Path:
    """``../shared/fixtures`` (files written by labelme and labelImg); skips where it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"reference files made by labelme and labelImg not found at {SHARED_FIXTURES} "
                    "(they are not part of the repository)")
    return SHARED_FIXTURES


@pytest.fixture(autouse=True)
def no_real_dialogs(monkeypatch):
    """A real modal dialog on the offscreen platform aborts the interpreter. Every dialog of the
    window raises instead unless the test records answers (fake_dialogs in tests/gui); a window left
    open by an earlier test that asks a question while closing then fails one test, not the run."""
    dialogs = sys.modules.get("segstudio.gui.window.dialogs")
    if dialogs is not None:
        for name, value in list(vars(dialogs).items()):
            own = getattr(value, "__module__", "") == dialogs.__name__ and not isinstance(value, type)
            if callable(value) and own and not name.startswith("_"):
                monkeypatch.setattr(dialogs, name, _refuse(name))
    yield


def _refuse(name: str):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"a real {name} dialog would open in a test: record its answer (fake_dialogs)")

    return refuse
