"""The review flow with no window: the image on screen predicted with the active model and mapped
onto the project's classes, its metrics against the painted mask, accept as one undo step (refused
read-only), predict-all into the cache with the uncertainty the file list sorts by; a read-only
window never writes the prediction cache."""

from __future__ import annotations

import numpy as np
import pytest
from flow_harness import Flows, a_model, labelled_project
from session_harness import changed_elsewhere

from segstudio.application.review.prediction_cache import cache_folder, scores_by_index
from segstudio.application.review.review_metrics import metrics_of
from segstudio.application.review.review_rules import AcceptMode, set_project_aliases


@pytest.fixture
def flows(tmp_path):
    image_dir, save_dir = labelled_project(tmp_path / "p", count=4)
    for stem in ("img_002", "img_003"):
        (save_dir / f"{stem}.png").unlink()  # two images without a mask
    flows = Flows()
    flows.open(image_dir, save_dir)
    return flows


def _predicted(flows) -> None:
    """The tiny model made active and the image on screen predicted."""
    model = a_model(flows.session.project.save_dir / "models" / "m")
    flows.active.set(model)
    flows.run()
    assert flows.review.available


def test_the_image_on_screen_is_predicted_and_reviewed_against_its_mask(flows):
    _predicted(flows)
    review, document = flows.review, flows.session.document
    shown = flows.last("prediction_changed")
    assert shown.image_path == flows.session.entry.image_path and shown.labels.shape == document.label.shape
    assert shown.source == "m" and flows.last("status").startswith("m: uncertainty")
    assert set(np.unique(shown.labels)) <= {0, 1, 2, 3}
    metrics = flows.last("metrics_changed")
    expected = metrics_of(document.label, shown.labels, 4)
    assert np.allclose(metrics.metrics.iou, expected.iou, equal_nan=True) and metrics.text.startswith("mIoU")
    stem = flows.session.entry.stem
    assert (cache_folder(flows.session.project.save_dir, review._active.path) / f"{stem}.png").is_file()


def test_a_model_class_is_mapped_onto_the_project_by_name_and_alias(flows):
    review, path = flows.review, flows.session.entry.image_path
    labels = np.array([[0, 1], [2, 3]], np.uint8)
    flows.session.document.set_label(np.zeros((32, 32), np.uint8))
    review.show_live(path, np.kron(labels, np.ones((16, 16), np.uint8)), ["background", "square", "disc", "fish"])
    assert review.labels[0, 0] == 0 and review.labels[0, 20] == 2 and review.labels[20, 0] == 1
    assert review.labels[20, 20] == 255  # "fish": unknown to the project, never accepted
    set_project_aliases(flows.session.project, {"fish": "triangle"})
    review.show_live(path, np.kron(labels, np.ones((16, 16), np.uint8)), ["background", "square", "disc", "fish"])
    assert review.labels[20, 20] == 3


def test_accept_is_one_undo_step_and_is_saved(flows):
    _predicted(flows)
    document, review = flows.session.document, flows.review
    before = document.label.copy()
    assert review.accept(AcceptMode.ALL).startswith("Prediction accepted")
    expected = np.where(review.labels != 255, review.labels, before)
    assert (document.label == expected).all() and flows.session.dirty
    assert flows.timers[0].fire()  # the autosave of a finished gesture
    flows.run()
    assert not flows.session.dirty
    document.undo()
    assert (document.label == before).all()
    document.redo()
    assert (document.label == expected).all()


def test_a_read_only_window_accepts_nothing_and_writes_no_cache(flows):
    model = a_model(flows.session.project.save_dir / "models" / "m")
    flows.active.set(model)
    flows.run()
    cache = cache_folder(flows.session.project.save_dir, model)
    cached = sorted(cache.iterdir())
    second = Flows()  # opened while a project-wide change runs elsewhere: read-only
    with changed_elsewhere(flows.session.project.save_dir):
        second.open(flows.session.project.image_dir, flows.session.project.save_dir)
    assert second.session.read_only
    second.show(1)  # not predicted by the first window: predicted here, never stored
    assert second.review.available
    assert sorted(cache.iterdir()) == cached
    before = second.session.document.label.copy()
    assert "nothing is accepted" in second.review.accept(AcceptMode.ALL)
    assert (second.session.document.label == before).all()
    refusal = second.review.predict_all()
    assert refusal.error and second.session.read_only in refusal.text
    assert sorted(cache.iterdir()) == cached


def test_predict_all_fills_the_cache_and_orders_by_uncertainty(flows):
    _predicted(flows)
    review = flows.review
    assert review.predict_all() is None
    assert review.predict_all().text.startswith("Every unlabelled image is being predicted")
    flows.run()
    outcome = flows.last("batch_finished")
    assert (outcome.done, outcome.error) == (2, "") and "2 image(s) predicted" in outcome.text
    progress = [event[1:] for event in flows.said if event[0] == "batch_progress"]
    assert progress[0] == (0, 2, "img_002.png") and progress[-1] == (2, 2, "")
    scores = flows.last("scores_changed")
    assert {2, 3} <= set(scores) and scores == scores_by_index(flows.session.project, review._active.path)
    review.set_live_scores({1: 0.5})
    assert flows.last("scores_changed") == {1: 0.5}
    review.set_live_scores(None)
    assert flows.last("scores_changed") == scores


def test_closing_cancels_predict_all_and_follows_its_end(flows):
    _predicted(flows)
    review = flows.review
    assert review.predict_all() is None
    ended = review.stop()
    assert not ended.done()
    flows.run()
    assert ended.done() and review.batch is None
    assert flows.last("batch_finished").done == 0  # cancelled before its first image
    assert review.stop().done()


def test_metrics_follow_edits_by_rectangles_and_equal_a_whole_count(flows):
    """After the whole image is counted once, each settled edit updates the metrics from its
    rectangle alone; they stay equal to counting the whole image again, through strokes and undo."""
    _predicted(flows)
    review, document = flows.review, flows.session.document
    shown = flows.last("prediction_changed")
    edited = []
    review.mask_edited.connect(edited.append)
    rng = np.random.default_rng(0)
    for step in range(12):
        document.begin_stroke()
        for _ in range(4):
            document.brush(*rng.integers(0, 32, 2), 2, int(rng.integers(0, 4)))
        document.end_stroke()
        if step % 5 == 4:
            document.undo()
        flows.settle_edits()
        metrics = flows.last("metrics_changed").metrics
        expected = metrics_of(document.label, shown.labels, 4)
        assert np.array_equal(metrics.iou, expected.iou, equal_nan=True)
        assert np.array_equal(metrics.pixel_accuracy, expected.pixel_accuracy, equal_nan=True)
    assert edited and all(rect.w <= 32 and rect.h <= 32 for rect in edited)


def test_edits_while_the_whole_image_is_counted_are_not_lost(flows):
    _predicted(flows)
    document = flows.session.document
    flows.review.update_metrics()  # a whole count queued, not run yet
    document.fill_rect(0, 0, 15, 15, 2)
    flows.settle_edits()  # the edit settles before the count answers: kept for after it
    flows.run()
    expected = metrics_of(document.label, flows.last("prediction_changed").labels, 4)
    assert np.array_equal(flows.last("metrics_changed").metrics.iou, expected.iou, equal_nan=True)
