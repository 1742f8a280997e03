"""Fixtures for the window tests: a small project on disk, a window with isolated settings, synthetic
mouse input at image coordinates, and dialogs replaced so no modal box can block a test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from segstudio.gui.window import dialogs
from segstudio.gui.window.app_window import MainWindow
from segstudio.gui.window.settings import Settings

# The tests import gui_helpers (synthetic input); --import-mode=importlib does not add this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gui_helpers import flush, process_until, settle  # noqa: E402
from gui_project import CLASSES, SIZE, make_project  # noqa: E402,F401


class Dialogs:
    """Records every dialog call; answers are set per test."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.confirm_answer = True
        self.text_answer: str | None = None
        self.unsaved_answer = "save"
        self.restore_answer = True
        self.colour_answer = (1, 2, 3)
        self.repair_answers: list[str | None] = []  # ask_mask_repair: popped in order, then None
        self.mismatch_answer: str | None = None  # ask_class_mismatch: "remap", "recorded" or None

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def install(self, monkeypatch) -> None:
        def record(name, result):
            def fake(*args, **kwargs):
                self.calls.append((name, args))
                return result() if callable(result) else result
            monkeypatch.setattr(dialogs, name, fake)

        record("error", None)
        record("info", None)
        record("confirm", lambda: self.confirm_answer)
        record("ask_text", lambda: self.text_answer)
        record("ask_colour", lambda: self.colour_answer)
        record("ask_unsaved", lambda: self.unsaved_answer)
        record("ask_restore", lambda: self.restore_answer)
        record("ask_mask_repair", lambda: self.repair_answers.pop(0) if self.repair_answers else None)
        record("ask_class_mismatch", lambda: self.mismatch_answer)
        record("ask_folder", None)
        record("ask_class_file", None)
        record("about", None)
        record("show_shortcuts", None)


# What the training form's plan measures (plan_preview.probe_job: torch on a worker, seconds): a
# laptop-class CPU, so window tests neither time this machine nor wait for it.
LAPTOP_PROBE = {"device": "cpu", "variant": "b0", "measured": [(128, 2, 0.25), (128, 4, 0.45)],
                "forward_px_s": 3e-6, "model_bytes": 15_000_000}


@pytest.fixture(autouse=True)
def steady_plan_probe(monkeypatch):
    from segstudio.application.training import plan_preview
    monkeypatch.setattr(plan_preview, "probe_job", lambda variant, device: LAPTOP_PROBE)


@pytest.fixture
def fake_dialogs(monkeypatch) -> Dialogs:
    recorder = Dialogs()
    recorder.install(monkeypatch)
    return recorder


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def project_dir(tmp_path) -> Path:
    return make_project(tmp_path / "images")


@pytest.fixture
def make_window(qtbot, settings, fake_dialogs):
    """Factory: a shown window (800×600) with the given folder open."""
    windows = []

    def factory(folder: Path | None = None, **kwargs) -> MainWindow:
        window = MainWindow(settings=settings)
        qtbot.addWidget(window)
        window.resize(900, 650)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        if folder is not None:
            assert window.open_project(folder, **kwargs)
            settle(window)  # images load on a worker thread (a class remap at opening too)
        windows.append(window)
        return window

    yield factory
    for window in windows:  # closed while the recorded dialogs still answer for them
        if not window.closing.done:
            flush(window)
            window.close()
            process_until(lambda w=window: w.closing.done or w.closing.confirmed is False, 30)


@pytest.fixture
def window(make_window, project_dir) -> MainWindow:
    return make_window(project_dir)
