"""The "good enough" record with no window: the prediction shown when an image was opened against
the mask saved, per image in labelling order, kept in the project's state folder (read back by the
next session), never written by a read-only window."""

from __future__ import annotations

import json

import numpy as np
import pytest
from flow_harness import Flows, labelled_project
from session_harness import changed_elsewhere

from segstudio.application.review.kept_record import KEPT_FILE, KeptRecorder, read_records
from segstudio.core.paths import STATE_FOLDER


@pytest.fixture
def flows(tmp_path):
    image_dir, save_dir = labelled_project(tmp_path / "p", count=3)
    flows = Flows()
    flows.open(image_dir, save_dir)
    return flows


def _predict(flows: Flows, labels: np.ndarray) -> None:
    """A prediction of the image on screen shown, as live mode shows its own."""
    names = list(flows.session.project.classes.names)
    flows.review.show_live(flows.session.entry.image_path, labels, names)


def test_the_first_prediction_shown_is_compared_with_each_save_of_the_image(flows):
    recorder = KeptRecorder(flows.session, flows.review, flows.pools)
    seen: list = []
    recorder.changed.connect(seen.append)
    shape = flows.session.document.label.shape
    first = np.ones(shape, np.uint8)
    _predict(flows, first)
    _predict(flows, np.full(shape, 2, np.uint8))  # a later prediction is not the pre-fill
    flows.session.mask_saved.emit(0, first.copy())  # kept as it was
    flows.run()
    assert [(r.stem, r.order, r.overall) for r in recorder.records] == [(flows.session.entry.stem, 0, 1.0)]
    repainted = np.full(shape, 3, np.uint8)
    flows.session.mask_saved.emit(0, repainted)  # saved again, all repainted: the last save counts
    flows.run()
    assert [(r.order, r.overall) for r in recorder.records] == [(0, 0.0)] and recorder.records[0].source == "live model"
    path = flows.session.project.save_dir / STATE_FOLDER / KEPT_FILE
    assert json.loads(path.read_text())["records"][0]["overall"] == 0.0
    assert read_records(flows.session.project.save_dir) == recorder.records
    assert recorder.sentence() is None and len(seen) == 2  # one announcement a record


def test_an_image_opened_without_a_prediction_is_not_recorded(flows):
    recorder = KeptRecorder(flows.session, flows.review, flows.pools)
    flows.session.mask_saved.emit(0, np.ones(flows.session.document.label.shape, np.uint8))
    flows.run()
    assert recorder.records == []
    assert not (flows.session.project.save_dir / STATE_FOLDER / KEPT_FILE).exists()


def test_the_order_follows_labelling_and_the_next_session_reads_it(flows):
    recorder = KeptRecorder(flows.session, flows.review, flows.pools)
    for index in (0, 1, 2):
        flows.show(index)
        shape = flows.session.document.label.shape
        _predict(flows, np.ones(shape, np.uint8))
        flows.session.mask_saved.emit(index, np.ones(shape, np.uint8))
        flows.run()
    assert [r.order for r in recorder.records] == [0, 1, 2]
    later = Flows()
    with changed_elsewhere(flows.session.project.save_dir):  # read-only: a project-wide change runs elsewhere
        later.open(flows.session.project.image_dir, flows.session.project.save_dir)
    assert later.session.read_only
    again = KeptRecorder(later.session, later.review, later.pools)
    assert [r.stem for r in again.records] == [r.stem for r in recorder.records]
    path = flows.session.project.save_dir / STATE_FOLDER / KEPT_FILE
    before = path.read_bytes()
    _predict(later, np.ones(later.session.document.label.shape, np.uint8))
    later.session.mask_saved.emit(0, np.zeros(later.session.document.label.shape, np.uint8))
    later.run()
    assert path.read_bytes() == before  # a read-only window writes nothing


def test_a_save_that_answers_after_the_user_moved_on_is_recorded(flows):
    from session_harness import paint

    recorder = KeptRecorder(flows.session, flows.review, flows.pools)
    shape = flows.session.document.label.shape
    _predict(flows, np.ones(shape, np.uint8))
    paint(flows.session, 2)  # a correction
    flows.session.save_async()
    assert flows.session.load_index(1)  # moving on: the write answers while the next image opens
    flows.run()
    assert flows.session.index == 1 and [r.stem for r in recorder.records] == ["img_000"]
    assert 0.0 < recorder.records[0].overall < 1.0
    flows.show(0)  # opened again: a new pre-fill is compared from now on
    _predict(flows, np.full(shape, 3, np.uint8))
    flows.session.mask_saved.emit(0, np.full(shape, 3, np.uint8))
    flows.run()
    assert [(r.stem, r.order, r.overall) for r in recorder.records] == [("img_000", 0, 1.0)]
