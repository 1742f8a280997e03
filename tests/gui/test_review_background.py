"""Prediction, predict-all, review metrics and the class rewrite run on the window's BackgroundPools:
the pool lent by the window is used and left open (the window shuts it down once); answers and
progress arrive on the GUI thread; cancel keeps every file."""

from __future__ import annotations

import hashlib
import sys
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from segstudio.application.review.controller import ImageMetrics
from segstudio.application.review.prediction_service import BatchPrediction, PredictionService
from segstudio.application.review.review_metrics import metrics_of
from segstudio.core.classes import ClassList, save_class_file
from segstudio.core.project import Project
from segstudio.gui.docks.review_dock import ReviewDock
from segstudio.gui.workers.background import BackgroundPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from cli_helpers import photo, tiny_model  # noqa: E402


def _sums(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _labelled(folder: Path, count: int = 3) -> Project:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(np.full((6, 8, 3), 30 * i, np.uint8)).save(folder / f"img{i}.jpg")
    save_class_file(folder / "classes.txt", ClassList(["background", "cat", "dog"]))
    project = Project(folder)
    for entry in project.entries:
        label = np.zeros((6, 8), np.uint8)
        label[:3], label[3:] = 1, 2
        project.save(entry, label)
    return Project(folder)


def test_prediction_service_uses_a_lent_pool_and_leaves_it_open(qtbot, tmp_path):
    model = tiny_model(tmp_path / "save" / "models" / "m")
    image = photo(tmp_path / "images" / "a.jpg", size=(16, 20))
    lent = BackgroundPool("predict")
    service = PredictionService(lent)
    gui, seen = threading.current_thread(), []
    service.ready.connect(lambda result: seen.append((result, threading.current_thread() is gui)))
    assert not service.request(tmp_path / "save", model, image)
    qtbot.waitUntil(lambda: bool(seen), timeout=20000)
    assert seen[0][1] and seen[0][0].labels.shape == (16, 20)
    assert service.request(tmp_path / "save", model, image)  # from memory, at once
    service.cancel()
    assert not lent.closed  # the window's, shut down by the window
    lent.shutdown(wait=True)


def test_batch_prediction_reports_progress_on_the_gui_thread_and_skips_a_broken_image(qtbot, tmp_path):
    model = tiny_model(tmp_path / "save" / "models" / "m")
    images = [photo(tmp_path / "images" / f"{n}.jpg", size=(16, 20), seed=i) for i, n in enumerate("abc")]
    images[1].write_bytes(b"\xff\xd8\xff broken")
    before = _sums(tmp_path / "images")
    lent = BackgroundPool("predict-all")
    batch = BatchPrediction(PredictionService(lent).runner, tmp_path / "save", model, images, lent)
    gui, progress, finished = threading.current_thread(), [], []
    batch.progress.connect(lambda done, total, name: progress.append((done, total, name)))
    batch.finished.connect(lambda done, error: finished.append((done, error, threading.current_thread() is gui)))
    batch.start()
    assert batch.running
    qtbot.waitUntil(lambda: bool(finished), timeout=30000)
    assert finished[0][0] == 2 and "b.jpg" in finished[0][1] and finished[0][2] and not batch.running
    assert progress[0] == (0, 3, "a.jpg") and progress[-1] == (3, 3, "")  # the broken one counts as done
    cache = tmp_path / "save" / ".segstudio" / "predictions" / "m"
    assert sorted(p.name for p in cache.glob("*.png")) == ["a.png", "c.png"]
    assert _sums(tmp_path / "images") == before
    assert not lent.closed
    lent.shutdown(wait=True)


def test_batch_prediction_cancel_stops_before_the_next_image(qtbot, tmp_path, monkeypatch):
    images = [tmp_path / f"{n}.jpg" for n in "abcd"]
    lent = BackgroundPool("predict-all")
    calls: list[Path] = []
    cancelled = threading.Event()

    class HeldRunner:
        def predict(self, save_dir, model_path, path):
            calls.append(path)
            if path.name == "b.jpg":  # held until the window has cancelled (on b's progress report)
                cancelled.wait(10)

    def cancel_at_b(done, total, name):
        if name == "b.jpg":
            batch.cancel()
            cancelled.set()

    batch = BatchPrediction(HeldRunner(), tmp_path, tmp_path / "m", images, lent)
    finished = []
    batch.finished.connect(lambda done, error: finished.append((done, error)))
    batch.progress.connect(cancel_at_b)
    batch.start()
    qtbot.waitUntil(lambda: bool(finished), timeout=30000)
    assert calls == images[:2] and finished == [(2, "")]  # b, being predicted, ends; c never starts
    assert not lent.closed
    lent.shutdown(wait=True)


def test_review_metrics_are_shown_by_the_dock(qtbot):
    dock = ReviewDock()
    qtbot.addWidget(dock)
    dock.set_classes(["background", "cat"], [(0, 0, 0), (200, 0, 0)])
    mask = np.zeros((4, 4), np.uint8)
    mask[:2] = 1
    dock.show_metrics(ImageMetrics(metrics_of(mask, mask.copy(), 2), "mIoU 1.000 · pixel accuracy 1.000"))
    assert dock.image_table.rowCount() == 2 and dock.metrics.iou[1] == 1.0
    assert dock.image_summary.text().startswith("mIoU 1.000")
    dock.show_metrics(ImageMetrics(None, "No prediction for this image"))
    assert dock.image_table.rowCount() == 0 and dock.image_summary.text() == "No prediction for this image"


def test_a_second_class_edit_during_a_rewrite_is_refused(qtbot, make_window, project_dir, monkeypatch):
    from gui_helpers import settle
    from PySide6.QtCore import QTimer

    from segstudio.application import class_rewrite
    from segstudio.core.classes import load_class_file
    from segstudio.core.masks import read_mask

    project = Project(project_dir)
    stripes = np.zeros((60, 80), np.uint8)
    stripes[0:10], stripes[10:20], stripes[20:30] = 1, 2, 3
    for entry in project.entries[:2]:
        project.save(entry, stripes)
    window = make_window(project_dir)
    real = class_rewrite.rewrite_project
    gate = threading.Event()

    def slow(project, lut, progress, should_stop):
        gate.wait(10)  # the user clicks again meanwhile
        return real(project, lut, progress, should_stop)

    monkeypatch.setattr(class_rewrite, "rewrite_project", slow)
    editor, during = window.class_editor, []
    QTimer.singleShot(50, lambda: (during.extend([editor.delete(1), editor.add(), editor.move(1, 1)]), gate.set()))
    assert editor.delete(2)  # dog goes; cat and tree stay where a single delete puts them
    settle(window)
    assert during == [False, None, False]
    assert load_class_file(project_dir / "classes.txt")[0].names == ["background", "cat", "tree"]
    for stem in ("img1", "img2"):
        mask = read_mask(project_dir / f"{stem}.png")
        assert (mask[0:10] == 1).all() and (mask[10:20] == 0).all() and (mask[20:30] == 2).all()
    assert not list(project_dir.glob(".*.remap")) and not editor.rewriting
