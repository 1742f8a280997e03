"""Undo histories kept per image: given back only onto the same map, within one byte budget."""

from __future__ import annotations

import numpy as np

from segstudio.application.session.undo_keeper import UndoKeeper
from segstudio.core.document import Document


def _painted(value: int = 1) -> Document:
    document = Document(np.zeros((40, 50), np.uint8))
    document.brush(10, 10, 4, value)
    document.brush(30, 20, 4, value)
    return document


def test_history_comes_back_onto_the_same_map_only() -> None:
    keeper = UndoKeeper()
    left = _painted()
    keeper.keep("a.jpg", left)
    again = Document(left.label.copy())  # the same map read back from disk
    assert keeper.give_back("a.jpg", again) and again.can_undo and not again.dirty
    again.undo()
    again.undo()
    assert not again.label.any()
    keeper.keep("b.jpg", _painted())
    changed = Document(np.full((40, 50), 3, np.uint8))  # edited elsewhere meanwhile
    assert not keeper.give_back("b.jpg", changed) and not changed.can_undo


def test_budget_drops_the_oldest_images_first() -> None:
    first, second = _painted(), _painted(2)
    keeper = UndoKeeper(budget_bytes=first.history.nbytes + second.history.nbytes // 2)
    keeper.keep("first", first)
    keeper.keep("second", second)
    assert not keeper.give_back("first", Document(first.label.copy()))
    assert keeper.give_back("second", Document(second.label.copy()))
