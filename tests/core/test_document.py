"""Document edits and undo/redo: exact to the pixel, grouped by stroke, bounded in bytes."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core import drawing
from segstudio.core.document import Document
from segstudio.core.geometry import Rect
from segstudio.core.history import TILE_OVERHEAD_BYTES


def _random_edit(doc: Document, rng: np.random.Generator) -> None:
    kind = rng.integers(5)
    value = int(rng.integers(0, 6))
    x, y = rng.integers(-10, doc.width + 10, size=2)
    if kind == 0:
        doc.brush(x, y, int(rng.integers(0, 15)), value)
    elif kind == 1:
        x1, y1 = rng.integers(-10, doc.width + 10, size=2)
        doc.brush_line(x, y, x1, y1, int(rng.integers(1, 8)), value)
    elif kind == 2:
        doc.fill_polygon(rng.uniform(-10, doc.width + 10, size=(5, 2)).tolist(), value)
    elif kind == 3:
        x1, y1 = rng.integers(0, doc.width, size=2)
        doc.fill_rect(x, y, x1, y1, value)
    else:
        doc.flood(int(np.clip(x, 0, doc.width - 1)), int(np.clip(y, 0, doc.height - 1)), value)


def test_random_edits_undo_and_redo_exactly() -> None:
    rng = np.random.default_rng(1)
    doc = Document(rng.integers(0, 3, size=(150, 170), dtype=np.uint8))
    states = [doc.label.copy()]
    for _ in range(60):
        if rng.random() < 0.4:  # a stroke of several edits is one step
            doc.begin_stroke()
            for _ in range(int(rng.integers(1, 5))):
                _random_edit(doc, rng)
            doc.end_stroke()
        else:
            _random_edit(doc, rng)
        if not np.array_equal(doc.label, states[-1]):
            states.append(doc.label.copy())
    assert len(states) > 40
    for expected in reversed(states[:-1]):
        assert doc.undo() is not None
        np.testing.assert_array_equal(doc.label, expected)
    assert not doc.can_undo and doc.undo() is None
    for expected in states[1:]:
        assert doc.redo() is not None
        np.testing.assert_array_equal(doc.label, expected)
    assert not doc.can_redo


def test_paint_changes_only_the_mask_and_returns_the_tight_box() -> None:
    doc = Document(np.zeros((40, 40), np.uint8))
    mask = np.zeros((10, 10), bool)
    mask[2:4, 3:8] = True
    rect = doc.paint(Rect(5, 5, 10, 10), mask, 7)
    assert rect == Rect(8, 7, 5, 2)
    expected = np.zeros((40, 40), np.uint8)
    expected[7:9, 8:13] = 7
    np.testing.assert_array_equal(doc.label, expected)
    # painting over it with one more pixel reports only that pixel
    mask[4, 3] = True
    assert doc.paint(Rect(5, 5, 10, 10), mask, 7) == Rect(8, 9, 1, 1)


def test_paint_clips_to_the_map_and_rejects_bad_input() -> None:
    doc = Document(np.zeros((10, 10), np.uint8))
    rect = doc.paint(Rect(-2, 8, 4, 4), np.ones((4, 4), bool), 1)
    assert rect == Rect(0, 8, 2, 2)
    assert doc.label.sum() == 4
    assert doc.paint(Rect(20, 20, 3, 3), np.ones((3, 3), bool), 1) is None
    with pytest.raises(ValueError):
        doc.paint(Rect(0, 0, 3, 3), np.ones((2, 3), bool), 1)
    with pytest.raises(ValueError):
        doc.paint(Rect(0, 0, 3, 3), np.ones((3, 3), bool), 256)


def test_label_cannot_be_written_from_outside() -> None:
    source = np.zeros((5, 5), np.uint8)
    doc = Document(source)
    with pytest.raises(ValueError):
        doc.label[0, 0] = 3
    source[0, 0] = 9  # the document owns a copy
    assert doc.label[0, 0] == 0


def test_no_op_edits_make_no_history_and_no_revision() -> None:
    doc = Document(np.full((30, 30), 2, np.uint8))
    seen: list[Rect] = []
    doc.add_listener(seen.append)
    assert doc.brush(10, 10, 5, 2) is None
    assert doc.fill_rect(0, 0, 29, 29, 2) is None
    doc.begin_stroke()
    assert doc.brush(3, 3, 2, 2) is None
    doc.end_stroke()
    assert not doc.can_undo and not doc.dirty
    assert doc.revision == 0 and seen == []
    assert doc.history.nbytes == 0


def test_stroke_is_one_step_and_nesting_is_safe() -> None:
    doc = Document(np.zeros((64, 64), np.uint8))
    doc.begin_stroke()
    doc.brush(5, 5, 3, 1)
    doc.begin_stroke()  # nested: still the same step
    doc.brush(20, 20, 3, 1)
    doc.end_stroke()
    doc.brush(40, 40, 3, 1)
    doc.end_stroke()
    doc.end_stroke()  # an extra end is ignored
    doc.brush(60, 60, 1, 2)  # outside a stroke: its own step
    assert doc.history.undo_steps == 2
    doc.undo()
    assert doc.label[60, 60] == 0 and doc.label[40, 40] == 1
    doc.undo()
    assert not doc.label.any()


def test_undo_inside_an_open_stroke_closes_it_first() -> None:
    doc = Document(np.zeros((20, 20), np.uint8))
    doc.begin_stroke()
    doc.brush(5, 5, 2, 1)
    assert doc.undo() is not None
    assert not doc.label.any()
    doc.brush(10, 10, 1, 3)  # the stroke goes on as a new step
    doc.end_stroke()
    assert doc.label[10, 10] == 3 and doc.history.undo_steps == 1


def test_new_edit_after_undo_drops_redo() -> None:
    doc = Document(np.zeros((20, 20), np.uint8))
    doc.brush(5, 5, 2, 1)
    doc.undo()
    assert doc.can_redo
    doc.brush(8, 8, 2, 2)
    assert not doc.can_redo and doc.redo() is None


def test_dirty_follows_the_saved_state_through_undo_and_redo() -> None:
    doc = Document(np.zeros((20, 20), np.uint8))
    assert not doc.dirty
    doc.brush(5, 5, 2, 1)
    assert doc.dirty
    doc.mark_saved()
    assert not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty
    doc.begin_stroke()
    doc.brush(9, 9, 2, 1)
    doc.mark_saved()  # autosave in the middle of a stroke
    doc.brush(15, 15, 2, 1)
    assert doc.dirty
    doc.end_stroke()


def test_revision_counts_every_change_including_undo_redo() -> None:
    doc = Document(np.zeros((20, 20), np.uint8))
    doc.brush(5, 5, 2, 1)
    doc.brush(9, 9, 2, 1)
    doc.undo()
    doc.redo()
    assert doc.revision == 4


def test_listeners_get_the_changed_rect() -> None:
    doc = Document(np.zeros((20, 20), np.uint8))
    seen: list[Rect] = []
    doc.add_listener(seen.append)
    doc.add_listener(seen.append)  # added once only
    first = doc.brush(5, 5, 2, 1)
    doc.undo()
    doc.redo()
    assert seen == [first, first, first]
    doc.remove_listener(seen.append)
    doc.brush(15, 15, 1, 1)
    assert len(seen) == 3


def test_history_budget_drops_oldest_steps_and_stays_within() -> None:
    tile_cost = 64 * 64 + TILE_OVERHEAD_BYTES
    budget = 10 * tile_cost
    doc = Document(np.zeros((256, 256), np.uint8), history_bytes=budget)
    centres = [(32 + 64 * (i % 4), 32 + 64 * (i // 4)) for i in range(16)]  # one tile each
    states = [doc.label.copy()]
    for x, y in centres:
        doc.brush(x, y, 5, 1)
        states.append(doc.label.copy())
        assert doc.history.nbytes <= budget
    assert doc.history.undo_steps == 10
    for expected in reversed(states[-11:-1]):
        doc.undo()
        np.testing.assert_array_equal(doc.label, expected)
    assert not doc.can_undo  # the six oldest steps are gone, the rest was exact


def test_step_larger_than_the_budget_cannot_be_undone_but_stays_consistent() -> None:
    doc = Document(np.zeros((256, 256), np.uint8), history_bytes=3 * (64 * 64 + TILE_OVERHEAD_BYTES))
    doc.brush(10, 10, 3, 1)
    assert doc.can_undo
    doc.fill_rect(0, 0, 255, 255, 2)  # 16 tiles: too big
    assert not doc.can_undo and doc.history.nbytes == 0
    assert doc.dirty and (doc.label == 2).all()
    doc.brush(100, 100, 3, 4)  # history works again afterwards
    doc.undo()
    assert (doc.label == 2).all()


def test_set_label_is_one_step_and_saves_only_changed_tiles() -> None:
    rng = np.random.default_rng(3)
    start = rng.integers(0, 4, size=(300, 200), dtype=np.uint8)
    doc = Document(start)
    new = start.copy()
    new[10:20, 150:160] = 9
    new[250, 5] = 8
    rect = doc.set_label(new)
    assert rect == Rect(5, 10, 155, 241)
    np.testing.assert_array_equal(doc.label, new)
    assert doc.history.nbytes == 2 * (64 * 64 + TILE_OVERHEAD_BYTES)
    assert doc.set_label(new) is None
    doc.undo()
    np.testing.assert_array_equal(doc.label, start)
    doc.redo()
    np.testing.assert_array_equal(doc.label, new)
    with pytest.raises(ValueError):
        doc.set_label(np.zeros((5, 5), np.uint8))


def test_200_dab_stroke_undoes_and_redoes_at_once() -> None:
    doc = Document(np.zeros((600, 800), np.uint8))
    before = doc.label.copy()
    t = np.linspace(0, 2 * np.pi, 200)
    xs, ys = 400 + 300 * np.cos(t), 300 + 200 * np.sin(3 * t)
    doc.begin_stroke()
    doc.brush(xs[0], ys[0], 20, 5)
    for i in range(1, 200):
        doc.brush_line(xs[i - 1], ys[i - 1], xs[i], ys[i], 20, 5)
    doc.end_stroke()
    after = doc.label.copy()
    assert (after == 5).sum() > 10000
    assert doc.history.undo_steps == 1
    assert doc.history.nbytes < after.nbytes  # only the tiles under the path were saved
    rect = doc.undo()
    np.testing.assert_array_equal(doc.label, before)
    assert (after != 0)[rect.slices].sum() == (after != 0).sum()
    doc.redo()
    np.testing.assert_array_equal(doc.label, after)


def test_convenience_tools_paint_their_shapes() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(50, 60, 3), dtype=np.uint8)
    image[:, :30] = 10
    doc = Document(np.zeros((50, 60), np.uint8), image=image)
    doc.flood(5, 5, 3, tolerance=4)  # colour limit: left half only
    assert (doc.label[:, :30] == 3).all() and not doc.label[:, 30:].any()
    doc.fill_unlabelled(4)
    assert (doc.label[:, 30:] == 4).all()
    doc.fill_rect(59, 49, 55, 45, 1)
    assert (doc.label[45:50, 55:60] == 1).all() and (doc.label == 1).sum() == 25
    shape = drawing.polygon([(0, 0), (9, 0), (0, 9)], 60, 50)
    doc.fill_polygon([(0, 0), (9, 0), (0, 9)], 2)
    assert (doc.label[shape[0].slices][shape[1]] == 2).all()
    with pytest.raises(ValueError):
        Document(np.zeros((5, 5), np.uint8)).flood(0, 0, 1, tolerance=3)


def test_remap_classes_renumbers_map_and_history() -> None:
    """A class delete renumbers the map and every saved undo/redo tile, without an undo step."""
    label = np.zeros((40, 40), np.uint8)
    label[:10] = 2
    doc = Document(label)
    doc.fill_rect(20, 20, 29, 29, 3)  # paint class 3 over background
    doc.fill_rect(0, 0, 4, 4, 1)  # paint class 1 over class 2
    doc.mark_saved()
    lut = np.arange(256, dtype=np.uint8)
    lut[1], lut[2], lut[3] = 0, 1, 2  # delete class 1: 2 -> 1, 3 -> 2
    changed = doc.remap_classes(lut)
    assert changed is not None and not doc.dirty
    assert doc.label[25, 25] == 2 and doc.label[2, 2] == 0 and doc.label[8, 8] == 1
    assert doc.undo() is not None  # undo the class-1 rectangle: old class 2 comes back as 1
    assert doc.label[2, 2] == 1
    doc.undo()
    assert doc.label[25, 25] == 0
    doc.redo()
    doc.redo()
    assert doc.label[25, 25] == 2 and doc.label[2, 2] == 0


def test_a_step_is_committed_once_when_it_is_complete() -> None:
    """The document alone announces a finished step: a stroke of many dabs once, on release; a fill
    or a replacement once; an undo and a redo as such; a stroke or a write that changed nothing never."""
    doc = Document(np.zeros((20, 30), np.uint8))
    kinds: list[str] = []
    rects: list = []
    doc.committed.connect(kinds.append)
    doc.changed.connect(rects.append)
    doc.begin_stroke()
    for x in range(5, 25, 4):
        doc.brush(x, 10, 2, 1)
    assert kinds == [] and len(rects) == 5  # every dab announced as a change, not as a step
    doc.end_stroke()
    assert kinds == ["edit"]
    doc.begin_stroke()
    doc.brush(5, 10, 2, 1)  # paints nothing new
    doc.end_stroke()
    assert kinds == ["edit"]
    doc.fill_rect(0, 0, 3, 3, 2)
    doc.set_label(np.zeros((20, 30), np.uint8))
    assert kinds == ["edit", "edit", "edit"]
    assert doc.undo() is not None and doc.redo() is not None
    assert kinds[-2:] == ["undo", "redo"]
    doc.lock("read-only")
    assert doc.fill_rect(0, 0, 9, 9, 3) is None and kinds[-1] == "redo"
