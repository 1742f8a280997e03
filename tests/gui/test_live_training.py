"""Model > Live training in the real window: cycles run while painting, the prediction follows, and
turning it off keeps an ordinary model folder that becomes the active model."""

from __future__ import annotations

import hashlib
import json
import threading

from gui_helpers import close, drag, flush, wait_loaded
from model_fixtures import save_constant_model

from segstudio.application.live.live_session import LiveSession
from segstudio.application.review.prediction_cache import scores_by_index, uncertainty_order


def _sums(folder) -> dict[str, str]:
    """sha256 of the images and the class file in ``folder``."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.suffix in (".jpg", ".txt")}


def test_live_training_predicts_while_on_and_keeps_the_model(qtbot, window, project_dir):
    names = list(window.session.project.classes.names)
    start = save_constant_model(project_dir.parent / "start", names, winner=1)
    features = window.model_features
    features.train_dock.set_model_source(str(start))
    window.select_class(2)
    window.tools.set_brush_size(7)
    drag(window.canvas, [(10, 20), (60, 20)])  # a scribble of class 2
    window.actions["live_training"].setChecked(True)
    live = window.live_features.live
    qtbot.waitUntil(lambda: features.prediction.available, timeout=60000)
    qtbot.waitUntil(lambda: live.learning is not None and live.learning.trainer is not None
                    and live.learning.trainer.steps >= 16, timeout=60000)
    drag(window.canvas, [(10, 40), (60, 40)])  # painting goes on while it learns
    window.actions["live_training"].setChecked(False)
    _wait_kept(qtbot, window)
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
    assert window.go(+1) and wait_loaded(window)  # an image opened from now on
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
    flush(window)
    assert (read_mask(project_dir / "img2.png") == 1).all()


def test_painted_background_and_ignore_have_colours_of_their_own(qtbot, window):
    """In a scribble project background strokes show in a vivid colour (not black at 50 %), the
    unpainted pixels show the photo; the class list shows the colours the canvas paints."""
    from segstudio.core.overlay import IGNORE_RGB, SCRIBBLE_BACKGROUND_RGB

    dock = window.class_dock
    assert dock.swatch_of(255) == IGNORE_RGB and dock.swatch_of(0) == (0, 0, 0)
    window.actions["scribbles"].setChecked(True)
    assert window.go(+1) and wait_loaded(window)
    window.select_class(0)
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, 20), (40, 20)])
    assert window.session.document.label[20, 20] == 0
    image = window.mask_layer.image
    painted, unpainted = image.pixelColor(20, 20), image.pixelColor(20, 50)
    assert (painted.red(), painted.green(), painted.blue(), painted.alpha()) == (*SCRIBBLE_BACKGROUND_RGB, 255)
    assert unpainted.alpha() == 0
    assert dock.swatch_of(0) == SCRIBBLE_BACKGROUND_RGB
    window.actions["scribbles"].setChecked(False)
    assert dock.swatch_of(0) == (0, 0, 0) and window.mask_layer.image.pixelColor(20, 20).alpha() == 0


def test_accept_only_unlabelled_fills_the_unpainted_pixels_of_a_scribble_mask():
    import numpy as np

    from segstudio.application.review.review_rules import AcceptMode, accepted_label

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
    live = window.live_features.live
    for _ in range(3):
        window.actions["live_training"].setChecked(True)
        qtbot.waitUntil(lambda: live.cycle is not None and live.cycle.done(), timeout=60000)
        window.actions["live_training"].setChecked(False)  # the answer is still queued: it must be dropped
        qtbot.wait(50)
        assert live.learning is None


def test_live_uncertainty_of_the_other_images_sorts_the_file_list(qtbot, window, project_dir):
    """Each cycle scores one other image; sorted by uncertainty, the list (and A/D) follows them."""
    names = list(window.session.project.classes.names)
    start = save_constant_model(project_dir.parent / "start", names, winner=1)
    features, dock = window.model_features, window.file_dock
    features.train_dock.set_model_source(str(start))
    features.review_dock.sort_box.setChecked(True)
    assert dock.displayed_indices() == [0, 1, 2] and window.session.index == 0
    before = _sums(project_dir)
    window.actions["live_training"].setChecked(True)
    live = window.live_features.live
    qtbot.waitUntil(lambda: live.learning is not None and len(live.learning.scores) == 2, timeout=60000)
    # the window hears of the scores when each cycle's answer arrives: after the worker has them
    qtbot.waitUntil(lambda: sorted(features.review.live_scores or {}) == [1, 2], timeout=60000)
    # the two scored images first, the least certain on top; the one on screen (never scored) last
    live_scores = features.review.live_scores
    assert dock.displayed_indices() == uncertainty_order(3, live_scores) and dock.displayed_indices()[2] == 0
    assert all("(" in dock.list.item(row).text() for row in range(2)) and "(" not in dock.list.item(2).text()
    above = dock.displayed_indices()[1]
    assert window.go(-1) and wait_loaded(window) and window.session.index == above  # A follows it
    window.actions["live_training"].setChecked(False)
    _wait_kept(qtbot, window)
    active = features.models_dock.active
    assert active.name.startswith("live-") and features.review.live_scores is None
    kept = scores_by_index(window.session.project, active)  # the live scores, kept with the saved model
    assert len(kept) >= 2 and dock.displayed_indices() == uncertainty_order(3, kept)
    assert _sums(project_dir) == before  # the images and the class file are untouched


def test_another_folder_opened_while_live_scores_are_on_their_way(qtbot, window, project_dir):
    """The scores of the old project never order the new one's list (its indices mean other files)."""
    from gui_project import make_project

    names = list(window.session.project.classes.names)
    start = save_constant_model(project_dir.parent / "start", names, winner=1)
    window.model_features.train_dock.set_model_source(str(start))
    window.model_features.review_dock.sort_box.setChecked(True)
    live = window.live_features.live
    window.actions["live_training"].setChecked(True)
    qtbot.waitUntil(lambda: live.learning is not None and len(live.learning.scores) == 2, timeout=60000)
    qtbot.waitUntil(lambda: live.cycle is not None and not live.cycle.done(), timeout=60000)  # mid-cycle
    second = make_project(project_dir.parent / "second", count=1)
    assert window.open_project(second) and wait_loaded(window)
    _wait_kept(qtbot, window)
    qtbot.wait(100)
    assert window.model_features.review.live_scores is None
    assert window.file_dock.displayed_indices() == [0] and "(" not in window.file_dock.list.item(0).text()
    assert len(list((project_dir / "models").glob("live-*"))) == 1  # kept with the project it learnt
    assert window.model_features.active is None  # and not made the new folder's active model


def test_turning_live_off_writes_the_kept_model_on_a_worker(qtbot, window, project_dir, monkeypatch):
    """The kept model is written on the worker: on the GUI thread it held the window for 135-153 ms
    (a B0); tests/benchmarks/live_speed.py measures the GUI timer while it is written."""
    writers: list[bool] = []  # on the GUI thread?
    real_save = LiveSession.save

    def save(self, name):
        writers.append(threading.current_thread() is threading.main_thread())
        return real_save(self, name)

    monkeypatch.setattr(LiveSession, "save", save)
    _live_for_a_while(qtbot, window, project_dir)
    window.actions["live_training"].setChecked(False)
    _wait_kept(qtbot, window)
    assert writers == [False]
    assert window.model_features.models_dock.active.name.startswith("live-")


def _wait_kept(qtbot, window) -> None:
    """Live mode is off and its model written (on the worker), and the window has heard of it."""
    live = window.live_features.live
    qtbot.waitUntil(lambda: live.learning is None and live.saving is None, timeout=60000)



def _live_for_a_while(qtbot, window, project_dir):
    names = list(window.session.project.classes.names)
    start = save_constant_model(project_dir.parent / "start", names, winner=1)
    window.model_features.train_dock.set_model_source(str(start))
    window.actions["live_training"].setChecked(True)
    live = window.live_features.live
    qtbot.waitUntil(lambda: live.learning is not None and live.learning.trainer is not None
                    and live.learning.trainer.steps >= 8, timeout=60000)
    return live.learning


def test_closing_the_window_while_live_keeps_the_model(qtbot, window, project_dir):
    """The close writes the model at once: no worker's answer comes after a close."""
    _live_for_a_while(qtbot, window, project_dir)
    assert close(window)
    kept = list((project_dir / "models").glob("live-*"))
    assert len(kept) == 1 and json.loads((kept[0] / "history.json").read_text())["live"]


def test_a_live_model_that_cannot_be_written_at_close_is_said(qtbot, window, project_dir, fake_dialogs, monkeypatch):
    session = _live_for_a_while(qtbot, window, project_dir)
    monkeypatch.setattr(session, "save", lambda folder: (_ for _ in ()).throw(OSError("disk full")))
    assert close(window)
    errors = [args for name, args in fake_dialogs.calls if name == "error"]
    assert len(errors) == 1 and "disk full" in errors[0][-1]


def test_update_model_now_trains_a_burst_without_blocking_and_keeps_the_model(qtbot, window, project_dir):
    from segstudio.application.live.controller import UPDATE_CYCLES

    names = list(window.session.project.classes.names)
    start = save_constant_model(project_dir.parent / "start", names, winner=1)
    window.model_features.train_dock.set_model_source(str(start))
    window.select_class(2)
    window.tools.set_brush_size(7)
    drag(window.canvas, [(10, 20), (60, 20)])
    window.actions["update_model"].trigger()
    live = window.live_features.live
    assert live.on and live.updating == UPDATE_CYCLES  # it returned at once: the burst is on a worker
    qtbot.waitUntil(lambda: not live.on, timeout=120000)
    _wait_kept(qtbot, window)
    active = window.model_features.models_dock.active
    assert active is not None and active.name.startswith("live-")
    assert json.loads((active / "history.json").read_text())["steps"] == 8 * UPDATE_CYCLES
    assert not window.actions["live_training"].isChecked()


def test_retrain_on_save_is_a_project_setting(qtbot, window, project_dir):
    action = window.actions["retrain_on_save"]
    assert action.isEnabled() and not action.isChecked()
    action.setChecked(True)
    assert json.loads(window.session.project.settings_path.read_text())["retrain_on_save"] is True
    assert window.live_features.retrain is not None
    action.setChecked(False)
    assert json.loads(window.session.project.settings_path.read_text())["retrain_on_save"] is False
