"""Training from the window: a full run, Stop, errors shown in the dock, close during a run, and the
run working on a worker while the GUI thread keeps answering."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from gui_helpers import close, flush, wait_loaded
from model_fixtures import make_project, set_small_run
from PySide6.QtCore import QTimer

from segstudio.application.training.model_registry import active_model_path


@pytest.fixture
def synth(tmp_path):
    return make_project(tmp_path / "synth", count=10, size=64, seed=1)


@pytest.fixture
def train_window(make_window, synth):
    image_dir, save_dir = synth
    window = make_window(image_dir, save_dir=save_dir)
    return window


def _run(qtbot, dock, timeout=60000):
    with qtbot.waitSignal(dock.run_finished, timeout=timeout) as blocker:
        assert dock.start()
    return blocker.args[0]


def test_train_to_completion_fills_curves_tables_and_model_list(qtbot, train_window, synth):
    features = train_window.model_features
    dock = features.train_dock
    set_small_run(dock, length=3)
    assert dock.device_label.text()  # "detecting…" or the device
    result = _run(qtbot, dock)
    assert result.status == "finished", result.message
    assert dock.chart.miou.count() == 3 and dock.chart.loss.count() >= 3
    assert dock.iou_table.rowCount() == 4
    assert dock.progress.value() == dock.progress.maximum() == 6  # 8 train images / batch 4 × 3 epochs
    assert dock.message.text().startswith("Finished in") and "finished" not in dock.message.text()
    assert not dock.message.property("error")
    folder = synth[1] / "models" / "tiny"
    history = json.loads((folder / "history.json").read_text())
    assert len(history["epochs"]) == 3
    # the new model is listed and active (remembered in project.json), its validation is reviewed
    records = features.models_dock.records
    assert [r.name for r in records] == ["tiny"]
    assert active_model_path(train_window.session.project) == folder.resolve()
    settings = json.loads((synth[1] / ".segstudio" / "project.json").read_text())
    assert settings["active_model"] == "models/tiny"
    assert features.review_dock.val_table.rowCount() == 4
    assert "Epoch 3" in features.review_dock.val_summary.text()
    # the snapshot folder is gone, the user's masks untouched
    assert not list((synth[1] / ".segstudio").glob("train-snapshot-*"))
    # the current image gets a prediction in the background and a metrics table
    qtbot.waitUntil(lambda: features.prediction.available, timeout=20000)
    qtbot.waitUntil(lambda: features.review_dock.image_table.rowCount() == 4, timeout=10000)
    assert "mIoU" in features.review_dock.image_summary.text()


def test_history_of_active_model_comes_back_after_restart(qtbot, make_window, synth):
    image_dir, save_dir = synth
    window = make_window(image_dir, save_dir=save_dir)
    set_small_run(window.model_features.train_dock, length=2, name="again")
    assert _run(qtbot, window.model_features.train_dock).status == "finished"
    close(window)
    second = make_window(image_dir, save_dir=save_dir)
    dock = second.model_features.train_dock
    assert dock.chart.miou.count() == 2 and dock.chart.loss.count() == 2
    assert dock.iou_table.rowCount() == 4
    assert second.model_features.models_dock.active_label.text() == "Active: again"


def test_stop_ends_the_run_and_keeps_a_checkpoint(qtbot, train_window, synth):
    dock = train_window.model_features.train_dock
    set_small_run(dock, length=100000, unit="steps", name="stopped")
    with qtbot.waitSignal(dock.run_started, timeout=5000):
        assert dock.start()
    qtbot.waitUntil(lambda: dock.progress.value() >= 2, timeout=30000)
    assert not dock.train_button.isEnabled() and dock.stop_button.isEnabled()
    # (that a stop ends the run after the batch in progress: tests/model/test_train.py)
    with qtbot.waitSignal(dock.run_finished, timeout=30000) as blocker:
        dock.stop()
    result = blocker.args[0]
    assert result.status == "stopped", result.message
    assert (synth[1] / "models" / "stopped" / "model.safetensors").is_file()
    assert "Stopped" in dock.message.text()
    assert dock.train_button.isEnabled() and not dock.running
    # what was kept is said, and the progress bar stays where the run stopped (not "step 0 / 1")
    assert f"at step {result.step} of 100000" in dock.message.text() and "Kept in models/stopped" in dock.message.text()
    assert "training_state.pt" in dock.message.text() and " MB" in dock.message.text()
    assert dock.progress.value() == result.step >= 2 and dock.progress.maximum() == 100000
    assert "kept in models/stopped" in dock.speed_label.text() and "MB" in dock.speed_label.text()
    assert dock.chart.loss.count() >= 2  # the run's own curve stays (the model became the active one)
    assert train_window.model_features.active == synth[1] / "models" / "stopped"


def test_corrupt_image_error_reaches_the_dock(qtbot, train_window, synth):
    image_dir, _ = synth
    (image_dir / "img_004.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    dock = train_window.model_features.train_dock
    set_small_run(dock, length=2, name="broken")
    result = _run(qtbot, dock)
    assert result.status == "failed"
    assert "img_004" in dock.message.text() and dock.message.property("error")
    assert dock.train_button.isEnabled() and not dock.running  # ready for the next try


def test_no_labelled_images_and_bad_settings_are_messages(qtbot, make_window, project_dir):
    window = make_window(project_dir)  # the gui fixture project has no masks
    dock = window.model_features.train_dock
    set_small_run(dock, length=1, name="none")
    result = _run(qtbot, dock)
    assert result.status == "failed" and "no labelled images" in dock.message.text()
    dock.lr_edit.setText("fast")
    assert not dock.start() and "learning rate" in dock.message.text()
    dock.lr_edit.setText("")
    dock.model_box.setCurrentIndex(dock.model_box.findData("@active"))
    assert not dock.start() and "no active model" in dock.message.text()


def test_one_class_only_is_reported(qtbot, make_window, tmp_path):
    from segstudio.core.masks import write_mask
    image_dir, save_dir = make_project(tmp_path / "one", count=3, size=64)
    for path in save_dir.glob("img_*.png"):
        write_mask(path, np.zeros((64, 64), np.uint8))
    window = make_window(image_dir, save_dir=save_dir)
    dock = window.model_features.train_dock
    set_small_run(dock, length=1, name="one")
    assert _run(qtbot, dock).status == "failed"
    assert "only 'background'" in dock.message.text()


def test_edits_during_training_do_not_change_the_run_and_close_stops_it(qtbot, train_window, synth, fake_dialogs):
    dock = train_window.model_features.train_dock
    set_small_run(dock, length=100000, unit="steps", name="closing")
    assert dock.start()
    snapshot = train_window.model_features.training.snapshot
    original = snapshot.load_mask(snapshot.entries[0]).copy()
    # the user keeps painting and saving the same image meanwhile
    session = train_window.session
    session.load_index(train_window.session.project.entries.index(
        next(e for e in session.project.entries if e.stem == snapshot.entries[0].stem)))
    assert wait_loaded(train_window)
    session.document.set_label(np.full_like(session.document.label, 2))
    session.save_async()
    flush(train_window)
    assert (snapshot.load_mask(snapshot.entries[0]) == original).all()  # the run still sees the old mask
    qtbot.waitUntil(lambda: dock.progress.value() >= 1, timeout=30000)
    fake_dialogs.confirm_answer = False
    assert not close(train_window) and dock.running  # "no": keep training, keep the window
    fake_dialogs.confirm_answer = True
    assert close(train_window)
    assert not dock.running and "Stopped" in dock.message.text()
    assert not snapshot.folder.exists()


def test_training_runs_on_a_worker_while_the_gui_thread_keeps_answering(qtbot, train_window, monkeypatch):
    """The run with its set-up (torch's loading: application/runtime.py; the optimiser
    machinery; the training itself) happens on a worker, and the window's thread handles its events
    meanwhile. How long the window's thread is held at most is measured, not asserted here:
    tests/benchmarks/gui_train_speed.py prints the longest GUI-timer gap of a run from the window."""
    from segstudio.application import runtime
    from segstudio.model.training import train as train_module

    where: list[tuple[str, bool]] = []  # (what ran, on the GUI thread?)

    def recorded(what, real):
        def call(*args, **kwargs):
            where.append((what, threading.current_thread() is threading.main_thread()))
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(runtime, "load_optimiser_machinery", recorded("torch", runtime.load_optimiser_machinery))
    monkeypatch.setattr(train_module, "train", recorded("train", train_module.train))
    dock = train_window.model_features.train_dock
    set_small_run(dock, length=25, unit="steps", batch=8, name="responsive")
    events: list[str] = []  # what the GUI thread handled, in order
    dock.progress.valueChanged.connect(lambda value: events.append("progress"))
    timer = QTimer()
    timer.timeout.connect(lambda: events.append("tick"))
    timer.start(10)
    try:
        with qtbot.waitSignal(dock.run_finished, timeout=60000) as blocker:
            assert dock.start()
    finally:
        timer.stop()
    assert blocker.args[0].status == "finished"
    assert where == [("torch", False), ("train", False)]
    first, last = events.index("progress"), len(events) - 1 - events[::-1].index("progress")
    assert "tick" in events[first:last]  # the timer ran between the run's progress reports


def test_the_epoch_axis_reads_sensibly_for_short_and_long_runs(qtbot):
    from segstudio.gui.docks.train_chart import TrainChart

    chart = TrainChart()
    qtbot.addWidget(chart)
    chart.set_epochs(1)
    assert chart.x_axis.labelFormat() == "%.1f" and chart.x_axis.tickCount() == 6
    chart.set_epochs(4)
    assert chart.x_axis.labelFormat() == "%.0f" and chart.x_axis.tickCount() == 5
    chart.set_epochs(250)
    assert chart.x_axis.labelFormat() == "%.0f" and chart.x_axis.tickCount() == 6


def test_a_worse_run_asks_which_model_stays_active(qtbot, train_window, synth):
    """The active model scored higher than the new run: the dock asks, and each answer does what
    its button says (nothing changes before the click)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
    from cli_helpers import tiny_model

    from segstudio.model.training.history import write_history

    window = train_window
    features = window.model_features
    dock = features.train_dock
    better = tiny_model(synth[1] / "models" / "better", names=("background", "disc", "square", "triangle"))
    write_history(better, [], {"best_miou": 0.999})
    features.active_model.set(better)
    set_small_run(dock, length=1, name="worse")
    result = _run(qtbot, dock)
    assert result.status == "finished" and result.choice is not None
    assert dock.question.isVisible() and "lower than the active better (0.999)" in dock.question.label.text()
    assert dock.question.keep_button.text() == "Keep better (better)"
    assert dock.question.use_button.text() == "Use worse"
    assert active_model_path(window.session.project) == better.resolve()  # not replaced silently
    dock.question.keep_button.click()
    assert not dock.question.isVisible() and "better stays the active model" in dock.message.text()
    assert active_model_path(window.session.project) == better.resolve()
    # another worse run; this time the user takes it
    set_small_run(dock, length=1, name="worse-again")
    _run(qtbot, dock)
    assert dock.question.isVisible()
    dock.question.use_button.click()
    assert active_model_path(window.session.project) == (synth[1] / "models" / "worse-again").resolve()
    assert "worse-again is the active model now" in dock.message.text()
