"""Rect arithmetic: the rectangles every edit, repaint and history tile are computed with."""

from __future__ import annotations

import numpy as np

from segstudio.core.geometry import Rect


def test_edges_and_emptiness() -> None:
    r = Rect(2, 3, 4, 5)
    assert (r.right, r.bottom) == (6, 8)
    assert not r.is_empty and r.area == 20
    assert Rect(1, 1, 0, 5).is_empty and Rect(1, 1, 5, -1).is_empty
    assert Rect.empty().is_empty and Rect.empty().area == 0


def test_slices_index_the_same_pixels() -> None:
    a = np.arange(100).reshape(10, 10)
    r = Rect(2, 3, 4, 5)
    assert a[r.slices].shape == (5, 4)
    assert a[r.slices][0, 0] == a[3, 2]


def test_from_points_any_order_is_inclusive_exclusive() -> None:
    assert Rect.from_points(1, 2, 5, 7) == Rect(1, 2, 4, 5)
    assert Rect.from_points(5, 7, 1, 2) == Rect(1, 2, 4, 5)
    assert Rect.from_points(3, 3, 3, 9).is_empty


def test_union_ignores_empty_sides() -> None:
    a, b = Rect(0, 0, 2, 2), Rect(5, 6, 1, 1)
    assert a.union(b) == Rect(0, 0, 6, 7)
    assert a.union(Rect.empty()) == a
    assert Rect.empty().union(b) == b
    assert a.union(None) == a


def test_intersect_and_clip() -> None:
    a = Rect(0, 0, 10, 10)
    assert a.intersect(Rect(5, 5, 10, 10)) == Rect(5, 5, 5, 5)
    assert a.intersect(Rect(10, 0, 3, 3)).is_empty  # touching edges do not overlap
    assert Rect(-3, -2, 6, 6).clip(8, 8) == Rect(0, 0, 3, 4)
    assert Rect(7, 7, 6, 6).clip(8, 8) == Rect(7, 7, 1, 1)
    assert Rect(20, 20, 5, 5).clip(8, 8).is_empty


def test_translated_and_contains() -> None:
    r = Rect(1, 1, 2, 2).translated(3, -1)
    assert r == Rect(4, 0, 2, 2)
    assert r.contains(4, 0) and r.contains(5, 1)
    assert not r.contains(6, 0) and not r.contains(4, 2)
