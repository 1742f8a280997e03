"""Model > Live training in the real window: cycles run while painting, the prediction follows, and
turning it off keeps an ordinary model folder that becomes the active model."""

from __future__ import annotations

import json

from gui_helpers import drag
from model_fixtures import save_constant_model


def test_live_training_predicts_while_on_and_keeps_the_model(qtbot, window, project_dir):
    names = list(window.session.project.classes.names)
    start = save_constant_model(project_dir.parent / "start", names, winner=1)
    features = window.model_features
    features.train_dock.set_model_source(str(start))
    window.select_class(2)
    window.tools.set_brush_size(7)
    drag(window.canvas, [(10, 20), (60, 20)])  # a scribble of class 2
    window.actions["live_training"].setChecked(True)
    live = window.live_features
    qtbot.waitUntil(lambda: features.prediction.available, timeout=60000)
    qtbot.waitUntil(lambda: live.session is not None and live.session.trainer is not None
                    and live.session.trainer.steps >= 16, timeout=60000)
    drag(window.canvas, [(10, 40), (60, 40)])  # painting goes on while it learns
    window.actions["live_training"].setChecked(False)
    qtbot.waitUntil(lambda: live.session is None, timeout=60000)
    active = features.models_dock.active
    assert active is not None and active.name.startswith("live-") and active.parent == project_dir / "models"
    history = json.loads((active / "history.json").read_text())
    assert history["live"] and history["steps"] >= 16


def test_live_training_needs_an_image(qtbot, make_window, fake_dialogs):
    window = make_window()
    window.actions["live_training"].setChecked(True)
    assert not window.actions["live_training"].isChecked() and "info" in fake_dialogs.names()


def test_a_scribble_project_starts_unlabelled_and_the_eraser_unpaints(qtbot, window, project_dir):
    from segstudio.core.masks import read_mask

    window.actions["scribbles"].setChecked(True)
    assert window.session.project.settings["unpainted"] == "unlabelled"
    assert window.go(+1) and window.session.wait_loaded()  # an image opened from now on
    label = window.session.document.label
    assert (label == 255).all()
    window.select_class(1)
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, 20), (40, 20)])
    assert (label == 1).sum() > 0 and (label == 0).sum() == 0  # nothing became background
    window.actions["tool_eraser"].trigger()
    drag(window.canvas, [(10, 20), (40, 20)])
    assert (label == 255).all()  # erased back to unpainted, not to background
    window.actions["tool_brush"].trigger()
    drag(window.canvas, [(10, 30), (40, 30)])
    window.actions["fill_unlabelled"].trigger()
    assert (label == 1).all()  # Shift+F fills the unpainted pixels
    window.session.flush()
    assert (read_mask(project_dir / "img2.png") == 1).all()


def test_accept_only_unlabelled_fills_the_unpainted_pixels_of_a_scribble_mask():
    import numpy as np

    from segstudio.application.review_rules import AcceptMode, accepted_label

    mask = np.full((2, 3), 255, np.uint8)
    mask[0, 0] = 2
    prediction = np.ones((2, 3), np.uint8)
    out = accepted_label(mask, prediction, AcceptMode.UNLABELLED, unpainted=255)
    assert out.tolist() == [[2, 1, 1], [1, 1, 1]]
    # without scribbles 255 is ignore the user painted: "all classes" replaces the rest, never it
    assert accepted_label(mask, prediction, AcceptMode.ALL).tolist() == [[1, 255, 255], [255, 255, 255]]


def test_turning_live_off_while_an_answer_is_on_its_way(qtbot, window, project_dir):
    """The off switch may come between a finished cycle and its answer reaching the window."""
    names = list(window.session.project.classes.names)
    start = save_constant_model(project_dir.parent / "start", names, winner=1)
    window.model_features.train_dock.set_model_source(str(start))
    live = window.live_features
    for _ in range(3):
        window.actions["live_training"].setChecked(True)
        qtbot.waitUntil(lambda: live.future is not None and live.future.done(), timeout=60000)
        window.actions["live_training"].setChecked(False)  # the answer is still queued: it must be dropped
        qtbot.wait(50)
        assert live.session is None
