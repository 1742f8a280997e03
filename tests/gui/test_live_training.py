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
