"""Click to segment's hover preview in the real window, with a tiny random SAM model: nothing before
the embedding, the resting cursor's mask outlined (what a click there would give), a click takes it
without decoding again, another tool switches it off."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import move, press, release
from PySide6.QtCore import Qt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from sam_tiny import TINY_SAM, saved_random  # noqa: E402

pytest.importorskip("transformers")


@pytest.fixture
def sam_folder(tmp_path) -> Path:
    return saved_random(tmp_path / "sam", TINY_SAM, seed=1)


def _counting_decodes(segment) -> list:
    calls = []
    original = segment._segmenter.predict
    segment._segmenter.predict = lambda *args, **kw: calls.append(args[1:]) or original(*args, **kw)
    return calls


def test_hover_outlines_the_mask_a_click_takes_and_another_tool_stops_it(qtbot, window, sam_folder) -> None:
    assist = window.assist_features.tools
    segment = assist.segment
    segment.use_model(sam_folder)
    window.actions["tool_segment"].trigger()
    busy = Qt.CursorShape.BusyCursor
    assert window.canvas.viewport().cursor().shape() == busy  # the encoder works: the cursor says so
    move(window.canvas, 30, 20, pressed=False)  # the image is still being embedded: nothing to decode
    assert not segment.hover_preview.ready and segment.hover_preview.shown is None
    qtbot.waitUntil(lambda: segment.hover_preview.ready, timeout=60000)
    assert window.canvas.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    decodes = _counting_decodes(segment)
    for x in (10, 20, 30):  # the cursor passes over two pixels and rests on the third
        move(window.canvas, x, 20, pressed=False)
    qtbot.waitUntil(lambda: segment.hover_preview.shown is not None, timeout=20000)
    point, (answer, _) = segment.hover_preview.shown
    hovered = answer.best
    assert len(decodes) == 1 and np.floor(point).tolist() == [30, 20]  # one decode, of the last point
    assert not assist.has_proposal  # a preview, not a proposal: Enter does nothing yet
    shown = assist.layer.label
    assert shown is not None and set(np.unique(shown)) <= {0, 3, 4} and (shown == 4).any()
    assert np.array_equal(shown > 0, hovered)
    again = segment._segmenter.predict(segment._key, [point], [1]).mask(0)  # what a click there gives
    assert np.array_equal(again, hovered)
    del decodes[:]
    press(window.canvas, 30, 20)
    move(window.canvas, 30, 20)  # a hand's click moves a little while the button is down
    release(window.canvas, 30, 20)
    assert assist.has_proposal and np.array_equal(assist.proposal(), hovered)  # at once: no decode
    assert decodes == [] and segment.prompts.points == [point]
    window.select_class(2)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert np.array_equal(window.session.document.label == 2, hovered)
    move(window.canvas, 50, 40, pressed=False)  # after Enter the preview follows the cursor again
    qtbot.waitUntil(lambda: segment.hover_preview.shown is not None, timeout=20000)
    window.actions["tool_brush"].trigger()  # another tool: the preview goes, hovers decode nothing
    assert segment.hover_preview.shown is None and assist.layer.label is None
    del decodes[:]
    move(window.canvas, 10, 10, pressed=False)
    assert not segment.hover_preview._timer.is_active() and not segment.hover_preview.in_flight
    assert decodes == []


def test_leaving_the_image_hides_the_preview(qtbot, window, sam_folder) -> None:
    segment = window.assist_features.tools.segment
    segment.use_model(sam_folder)
    window.actions["tool_segment"].trigger()
    qtbot.waitUntil(lambda: segment.hover_preview.ready, timeout=60000)
    move(window.canvas, 30, 20, pressed=False)
    qtbot.waitUntil(lambda: segment.hover_preview.shown is not None, timeout=20000)
    move(window.canvas, 200, 200, pressed=False)  # outside the 80×60 image
    assert segment.hover_preview.shown is None and window.assist_features.tools.layer.label is None
