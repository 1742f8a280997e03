"""Every dock fits, readable, at 1280x820 before, during and after a run, with long class and model
names (issue 29, item 1): nothing wider than its dock (the Stop button, the chart's legend), no
elided table column ("b…", "0.3"), tables with room for several rows, Train/Stop always in view,
and the dock column grows with the window. tests/tools/screenshot_fit.py shows the same under Xvfb."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.application.review.controller import ImageMetrics
from segstudio.application.review.review_metrics import metrics_of, summary_text
from segstudio.application.training.run_outcome import RunStarted
from segstudio.gui.window import window_state
from segstudio.model.training.types import EpochSummary, TrainProgress

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dock_fit import clipped  # noqa: E402
from gui_helpers import process_until  # noqa: E402
from gui_project import make_project  # noqa: E402
from model_fixtures import save_constant_model  # noqa: E402

LONG_CLASSES = ["background", "house", "grass", "traffic sign (temporary)", "sky", "tree", "car", "sun",
                "pedestrian crossing (painted)", "bicycle", "bus stop shelter", "street lamp"]
LONG_MODEL = "segformer-b2-finetuned-ade-512-512-long-name"


@pytest.fixture
def wide_window(make_window, tmp_path):
    folder = make_project(tmp_path / "images", classes=LONG_CLASSES)
    window = make_window(folder)
    window.resize(1280, 820)
    process_until(lambda: window.width() == 1280, 5)
    window_state.default_dock_sizes(window)  # as on a first start at this size
    process_until(lambda: False, 0.2)
    return window


def _check_every_dock(window, phase: str) -> None:
    f = window.model_features
    for dock in (window.file_dock, f.train_dock, f.models_dock, f.review_dock):
        dock.raise_()
        process_until(lambda d=dock: not d.visibleRegion().isEmpty(), 5)
        process_until(lambda: False, 0.1)  # the layouts requested by the last texts are done
        assert clipped(window) == [], f"{phase}, {dock.windowTitle()}"


def _in_view(widget) -> bool:
    """The whole widget lies inside the window (not scrolled away, not cut by the dock)."""
    window = widget.window()
    top_left = widget.mapTo(window, widget.rect().topLeft())
    bottom_right = widget.mapTo(window, widget.rect().bottomRight())
    return widget.isVisible() and window.rect().contains(top_left) and window.rect().contains(bottom_right)


def _run(window) -> None:
    """A run as the training controller reports it: started, progress, two validations."""
    training = window.model_features.training
    names = tuple(LONG_CLASSES)
    training.starting.emit("Saving…")
    training.started.emit(RunStarted(LONG_MODEL, 3, names))
    for step in (1, 2, 3, 4):
        training.progress.emit(TrainProgress(step // 2 + 1, 2, step, 200, 1.2 / step, 1e-3, 3.0, 120.0))
        if step % 2 == 0:
            iou = [0.5 + i / 40 for i in range(len(names))]
            training.epoch.emit(EpochSummary(step // 2, 1.0 / step, 0.333333, 0.8, iou, 2.0))


def _after(window, tmp_path) -> None:
    """A model with a long name (and its history) is the active one; the review tables are full."""
    f = window.model_features
    folder = save_constant_model(window.session.project.save_dir / "models" / LONG_MODEL, LONG_CLASSES, 1)
    history = {"class_names": LONG_CLASSES, "best_miou": 0.3333,
               "epochs": [{"epoch": 1, "val_iou": [0.25] * 12, "val_miou": 0.3333, "val_pixel_accuracy": 0.9}]}
    (folder / "history.json").write_text(json.dumps(history))
    f.models_dock.refresh()
    mask = np.arange(12, dtype=np.uint8).repeat(10).reshape(12, 10)
    shown = metrics_of(mask, mask, len(LONG_CLASSES))
    f.review_dock.show_metrics(ImageMetrics(shown, summary_text(shown.miou, shown.pixel_accuracy)))
    f.review_dock.set_validation(history)


def test_every_dock_fits_before_during_and_after_a_run(wide_window, tmp_path):
    window = wide_window
    dock = window.model_features.train_dock
    _check_every_dock(window, "before")
    dock.raise_()
    assert _in_view(dock.train_button) and _in_view(dock.stop_button)
    _run(window)
    assert dock.stop_button.isEnabled() and dock.iou_table.rowCount() == len(LONG_CLASSES)
    _check_every_dock(window, "during")
    dock.raise_()
    process_until(lambda: _in_view(dock.stop_button), 5)
    assert _in_view(dock.stop_button)  # never only through the menu
    _after(window, tmp_path)
    models = window.model_features.models_dock
    assert models.tree.topLevelItem(0).text(3) == "0.333"
    _check_every_dock(window, "after")


def test_the_dock_column_grows_with_the_window(wide_window):
    window = wide_window
    before = window.class_dock.width()
    heights = window.class_dock.height(), window.file_dock.height()
    window.resize(1600, 1000)
    assert process_until(lambda: window.class_dock.width() > before, 5)
    assert abs(window.class_dock.width() / 1600 - before / 1280) < 0.03
    assert window.class_dock.height() > heights[0] and window.file_dock.height() > heights[1]
    _check_every_dock(window, "1600x1000")
    window.resize(1280, 820)
    assert process_until(lambda: abs(window.class_dock.width() - before) <= 4, 5)
