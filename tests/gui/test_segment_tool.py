"""Click to segment in the real window, with a tiny random SAM model: prompts in, a proposal out,
Enter accepts it as one undo step; without a model, one clear line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import drag, press, release, wait_loaded
from PySide6.QtCore import Qt

from segstudio.core.geometry import Rect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from sam_tiny import TINY_SAM, saved_random  # noqa: E402

pytest.importorskip("transformers")


@pytest.fixture
def sam_folder(tmp_path) -> Path:
    return saved_random(tmp_path / "sam", TINY_SAM, seed=1)


def _wait_for_proposal(qtbot, assist, timeout=60000) -> np.ndarray:
    qtbot.waitUntil(lambda: assist.has_proposal, timeout=timeout)
    return assist.proposal()


def test_click_and_box_give_a_proposal_accepted_as_one_undo_step(qtbot, window, sam_folder) -> None:
    assist = window.assist_features.tools
    assist.segment.use_model(sam_folder)
    window.actions["tool_segment"].trigger()
    window.select_class(2)
    press(window.canvas, 30, 20)
    release(window.canvas, 30, 20)
    proposal = _wait_for_proposal(qtbot, assist)
    assert proposal.shape == window.session.document.label.shape
    assert not window.session.document.label.any()  # a preview only
    drag(window.canvas, [(5, 5), (40, 30), (70, 50)])  # a box refines the same object
    assert assist.segment.prompts.box is not None and len(assist.segment.prompts.points) == 1
    qtbot.waitUntil(lambda: not assist.segment.pending, timeout=60000)
    assert assist.has_proposal
    accepted = assist.proposal().copy()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    label = window.session.document.label
    assert np.array_equal(label == 2, accepted) and not assist.has_proposal
    window.undo()
    assert not window.session.document.label.any()


def test_without_a_model_the_tool_says_how_to_get_one(qtbot, window) -> None:
    messages = []
    assist = window.assist_features.tools
    assist.message.connect(messages.append)
    assist.segment.use_model(None)
    window.actions["tool_segment"].trigger()
    press(window.canvas, 30, 20)
    release(window.canvas, 30, 20)
    qtbot.waitUntil(lambda: any("fetch-model" in m for m in messages), timeout=20000)
    assert not assist.has_proposal


def test_shift_enter_accepts_only_the_unpainted_pixels_as_one_undo_step(qtbot, window, sam_folder) -> None:
    window.select_class(1)
    window.tools.set_brush_size(9)
    drag(window.canvas, [(0, 20), (79, 20)])  # class 1 across the image: painted, so kept
    window.session.document.paint(Rect(0, 0, 3, 3), np.ones((3, 3), bool), 255)  # ignore the user painted
    painted = window.session.document.label.copy()
    assert (painted == 1).any()
    assist = window.assist_features.tools
    assist.segment.use_model(sam_folder)
    window.actions["tool_segment"].trigger()
    window.select_class(2)
    drag(window.canvas, [(0, 0), (40, 30), (79, 59)])  # a box over the whole image
    proposal = _wait_for_proposal(qtbot, assist).copy()
    assert (proposal & (painted == 1)).any() and (proposal & (painted == 0)).any()  # both kinds inside
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    label = window.session.document.label
    assert np.array_equal(label == 2, proposal & (painted == 0))  # only where nothing was painted
    assert np.array_equal(label[painted != 0], painted[painted != 0])  # the strokes and the ignore stay
    window.undo()  # one undo step takes it all back
    assert np.array_equal(window.session.document.label, painted)


def test_shift_enter_in_a_scribble_project_fills_only_the_unlabelled_pixels(qtbot, window, sam_folder) -> None:
    window.actions["scribbles"].setChecked(True)
    assert window.go(+1) and wait_loaded(window)  # a new mask: all unpainted (255)
    document = window.session.document
    document.paint(Rect(0, 10, 80, 10), np.ones((10, 80), bool), 1)  # a scribble
    painted = document.label.copy()
    assist = window.assist_features.tools
    assist.segment.use_model(sam_folder)
    window.actions["tool_segment"].trigger()
    window.select_class(2)
    drag(window.canvas, [(0, 0), (40, 30), (79, 59)])
    proposal = _wait_for_proposal(qtbot, assist).copy()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Enter, Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(document.label == 2, proposal & (painted == 255))
    assert (document.label[10:20] == 1).all()


def test_the_image_key_follows_the_pixels_not_the_array() -> None:
    """An embedding is found by what the image shows: a copy finds it, another image of the same
    size (which may get a freed image's address, and so its id) does not."""
    from segstudio.gui.canvas.segment_tool import image_key

    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    other = image.copy()
    other[7, 9, 1] ^= 1  # one value of one pixel
    assert image_key(image) == image_key(image.copy()) == image_key(np.asfortranarray(image))
    assert image_key(other) != image_key(image)
    assert image_key(image[:, :30]) != image_key(image)


def test_the_next_image_is_embedded_ahead_and_answers_without_a_new_embedding(qtbot, window, sam_folder) -> None:
    from segstudio.gui.canvas.segment_tool import image_key

    assist = window.assist_features.tools
    segment = assist.segment
    segment.use_model(sam_folder)
    qtbot.waitUntil(lambda: len(window.session.images_ahead()) == 1, timeout=20000)  # img2 loaded ahead
    ahead = window.session.images_ahead()[0]
    window.actions["tool_segment"].trigger()
    qtbot.waitUntil(lambda: segment._segmenter is not None and segment._segmenter.is_embedded(image_key(ahead)),
                    timeout=60000)
    encoded = []
    original = segment._segmenter._encode
    segment._segmenter._encode = lambda *args: encoded.append(1) or original(*args)
    window.actions["next_image"].trigger()
    assert wait_loaded(window)
    assert np.array_equal(window.session.document.image, ahead)
    press(window.canvas, 30, 20)
    release(window.canvas, 30, 20)
    _wait_for_proposal(qtbot, assist)
    qtbot.waitUntil(lambda: len(window.session.images_ahead()) > 0, timeout=20000)  # a busy machine loads late
    after = window.session.images_ahead()[0]  # img3, embedded ahead in its turn
    qtbot.waitUntil(lambda: segment._segmenter.is_embedded(image_key(after)), timeout=60000)
    assert len(encoded) == 1  # img3 alone: the image on screen came from the cache


def test_a_click_stops_the_embedding_ahead_and_it_resumes_when_clicks_pause(qtbot, window, sam_folder,
                                                                           monkeypatch) -> None:
    """The next image's embedding would share the CPU with the click; the click goes first."""
    from segstudio.gui.canvas import segment_tool
    from segstudio.gui.canvas.segment_tool import image_key

    calls = []
    real = segment_tool._embed_quietly

    def slow_until_stopped(segmenter, image, interrupt):  # the first run ahead lasts until stopped
        calls.append(interrupt)
        if len(calls) == 1:
            deadline = time.monotonic() + 30
            while not interrupt.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real(segmenter, image, interrupt)

    monkeypatch.setattr(segment_tool, "_embed_quietly", slow_until_stopped)
    assist = window.assist_features.tools
    segment = assist.segment
    segment.use_model(sam_folder)
    qtbot.waitUntil(lambda: len(window.session.images_ahead()) == 1, timeout=20000)
    ahead = window.session.images_ahead()[0]
    window.actions["tool_segment"].trigger()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=60000)  # the image on screen is ready, ahead runs
    press(window.canvas, 30, 20)
    release(window.canvas, 30, 20)
    _wait_for_proposal(qtbot, assist)
    assert calls[0].is_set()  # the click stopped it (else it would run on for 30 s)
    qtbot.waitUntil(lambda: segment._segmenter.is_embedded(image_key(ahead)), timeout=60000)  # resumed
    assert len(calls) == 2 and not calls[1].is_set()


def test_a_prepared_folder_answers_the_first_click_without_the_encoder(qtbot, window, sam_folder, project_dir,
                                                                     monkeypatch) -> None:
    from segstudio.model.sam import PromptableSegmenter

    segment = window.assist_features.tools.segment
    segment.use_model(sam_folder)
    prepare = window.assist_features.prepare
    window.actions["segment_prepare"].trigger()
    assert prepare.folder.running
    qtbot.waitUntil(lambda: prepare.folder.progress.finished, timeout=120000)
    progress = prepare.folder.progress
    count = len(window.session.project.entries)
    assert progress.done == count and not progress.failed and not progress.cancelled
    assert len(list((project_dir / ".segstudio" / "sam-embeddings").glob("*.emb"))) == count
    segment.use_model(sam_folder)  # a fresh model, nothing in memory: as in the next session
    encoded = []
    original = PromptableSegmenter._encode
    monkeypatch.setattr(PromptableSegmenter, "_encode", lambda self, *args: encoded.append(1) or original(self, *args))
    window.actions["tool_segment"].trigger()
    press(window.canvas, 30, 20)
    release(window.canvas, 30, 20)
    _wait_for_proposal(qtbot, window.assist_features.tools)
    assert encoded == []  # read from .segstudio/sam-embeddings, not computed


def test_a_read_only_project_is_not_prepared(qtbot, window, sam_folder, project_dir, monkeypatch) -> None:
    prepare = window.assist_features.prepare
    monkeypatch.setattr(type(window.session), "read_only", property(lambda self: "another window has it open"))
    window.actions["segment_prepare"].trigger()
    assert not prepare.folder.running and not (project_dir / ".segstudio" / "sam-embeddings").exists()
    assert window.statusBar().currentMessage().startswith("Not preparing")


def test_a_click_pauses_the_preparation_which_then_goes_on(qtbot, window, sam_folder) -> None:
    segment = window.assist_features.tools.segment
    segment.use_model(sam_folder)
    prepare = window.assist_features.prepare
    window.actions["segment_prepare"].trigger()
    window.actions["tool_segment"].trigger()
    press(window.canvas, 30, 20)
    release(window.canvas, 30, 20)  # the image on screen is embedded: the preparation steps aside
    assert prepare.folder.progress.paused and prepare.folder.running
    _wait_for_proposal(qtbot, window.assist_features.tools)
    qtbot.waitUntil(lambda: prepare.folder.progress.finished, timeout=120000)  # after a quiet moment
    assert not prepare.folder.progress.cancelled and prepare.folder.progress.done == len(window.session.project.entries)
