"""Shape functions: the exact pixels each tool paints, clipped to the image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from segstudio.core import drawing
from segstudio.core.geometry import Rect


def _full(shape, width=50, height=40) -> np.ndarray:
    """Paste a (rect, mask) result into a full-size bool map."""
    out = np.zeros((height, width), bool)
    if shape is not None:
        rect, mask = shape
        assert mask.dtype == bool and mask.shape == (rect.h, rect.w)
        assert rect == rect.clip(width, height)
        out[rect.slices] = mask
    return out


@pytest.mark.parametrize("radius", [0, 0.5, 1])
def test_small_radius_is_one_pixel(radius: float) -> None:
    rect, mask = drawing.disk(7, 9, radius, 50, 40)
    assert rect == Rect(7, 9, 1, 1) and mask.all()


def test_disk_shape_and_width() -> None:
    mask = _full(drawing.disk(20, 20, 3, 50, 40))
    expected = np.array(
        [[0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0]], bool
    )
    np.testing.assert_array_equal(mask[18:23, 18:23], expected)
    assert mask.sum() == expected.sum()
    big = _full(drawing.disk(25, 20, 10, 50, 40))
    assert big[20].sum() == 19 and big[:, 25].sum() == 19  # 2r - 1 wide


def test_disk_is_symmetric_and_rounds_its_centre() -> None:
    a = drawing.disk(20.4, 19.6, 6, 50, 40)
    b = drawing.disk(20, 20, 6, 50, 40)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    m = b[1]
    assert np.array_equal(m, m[::-1]) and np.array_equal(m, m[:, ::-1]) and np.array_equal(m, m.T)


def test_disk_clipped_and_off_image() -> None:
    rect, mask = drawing.disk(0, 0, 4, 50, 40)
    assert rect == Rect(0, 0, 4, 4)
    np.testing.assert_array_equal(mask, drawing.disk(10, 10, 4, 50, 40)[1][3:, 3:])
    assert drawing.disk(-10, 5, 4, 50, 40) is None
    assert drawing.disk(55, 5, 4, 50, 40) is None


def test_line_contains_end_dabs_and_has_no_gaps() -> None:
    for radius in (1, 2, 5):
        stroke = _full(drawing.line(3, 4, 44, 31, radius, 50, 40))
        for x, y in ((3, 4), (44, 31)):
            dab = _full(drawing.disk(x, y, radius, 50, 40))
            assert not (dab & ~stroke).any()
        # every column between the ends is hit, and the 1-pixel line is 8-connected
        assert stroke[:, 3:45].any(axis=0).all()
    thin = _full(drawing.line(0, 0, 49, 13, 1, 50, 40))
    per_column = thin.sum(axis=0)
    assert per_column.min() == 1 and per_column.max() <= 2  # 2 only where a centre ties at 0.5
    count, _ = cv2.connectedComponents(thin.astype(np.uint8), connectivity=8)
    assert count == 2  # background + one connected line


def test_line_is_the_pixels_near_the_segment() -> None:
    stroke = _full(drawing.line(5, 5, 40, 30, 4, 50, 40))
    t = np.linspace(0, 1, 3000)[:, None, None]
    ys, xs = np.mgrid[0:40, 0:50]
    nearest = np.sqrt(((xs - (5 + 35 * t)) ** 2 + (ys - (5 + 25 * t)) ** 2).min(axis=0))
    clear = np.abs(nearest - 3.5) > 0.02  # sampling cannot decide pixels right at the edge
    np.testing.assert_array_equal(stroke[clear], (nearest <= 3.5)[clear])


def test_line_degenerate_and_off_image() -> None:
    a, b = drawing.line(10, 10, 10, 10, 3, 50, 40), drawing.disk(10, 10, 3, 50, 40)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert drawing.line(-20, -20, -10, -5, 3, 50, 40) is None
    clipped = _full(drawing.line(-10, 20, 60, 20, 1, 50, 40))
    assert clipped[20].all() and clipped.sum() == 50


def test_polygon_square_includes_its_outline_pixels() -> None:
    mask = _full(drawing.polygon([(2, 3), (6, 3), (6, 8), (2, 8)], 50, 40))
    assert mask.sum() == 5 * 6 and mask[3:9, 2:7].all()


def test_polygon_sub_pixel_vertices() -> None:
    # a square whose corners sit between pixel centres covers only the centres inside it
    mask = _full(drawing.polygon([(1.5, 1.5), (4.5, 1.5), (4.5, 4.5), (1.5, 4.5)], 50, 40))
    inner = _full(drawing.polygon([(1.6, 1.6), (4.4, 1.6), (4.4, 4.4), (1.6, 4.4)], 50, 40))
    assert inner.sum() == 9 and inner[2:5, 2:5].all()
    assert mask[2:5, 2:5].all()
    # a triangle with fractional vertices: centres on the diagonal edge count, others do not
    tri = _full(drawing.polygon([(0.6, 0.6), (3.4, 0.6), (3.4, 3.4)], 50, 40))
    assert sorted(zip(*np.nonzero(tri))) == [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 3)]


def test_polygon_clipped_and_off_image() -> None:
    mask = _full(drawing.polygon([(-100, -100), (100, -100), (100, 100), (-100, 100)], 50, 40))
    assert mask.all()
    assert drawing.polygon([(60, 60), (80, 60), (70, 80)], 50, 40) is None
    assert drawing.polygon([], 50, 40) is None


def test_rectangle_inclusive_any_corner_order() -> None:
    a = drawing.rectangle(3, 4, 7, 9, 50, 40)
    b = drawing.rectangle(7, 9, 3, 4, 50, 40)
    assert a[0] == b[0] == Rect(3, 4, 5, 6) and a[1].all()
    assert drawing.rectangle(5, 5, 5, 5, 50, 40)[0] == Rect(5, 5, 1, 1)
    assert drawing.rectangle(-5, -5, 100, 100, 50, 40)[0] == Rect(0, 0, 50, 40)
    assert drawing.rectangle(60, 0, 70, 10, 50, 40) is None


def test_flood_fill_is_4_connected_within_one_label() -> None:
    label = np.zeros((10, 10), np.uint8)
    label[5, :] = 1  # a wall
    label[2, 2] = 2  # an island inside the region
    label[7, 7] = 1
    label[6, 6] = 1  # touches (7,7) only diagonally
    rect, mask = drawing.flood_fill(label, 0, 0)
    assert rect == Rect(0, 0, 10, 5)
    assert mask.sum() == 49 and not mask[2, 2]
    rect, mask = drawing.flood_fill(label, 7, 7)
    assert rect == Rect(7, 7, 1, 1) and mask.sum() == 1
    assert drawing.flood_fill(label, 10, 0) is None and drawing.flood_fill(label, -1, 3) is None


def test_flood_fill_limited_by_colour_tolerance() -> None:
    label = np.zeros((8, 8), np.uint8)
    label[:, 6:] = 1
    image = np.zeros((8, 8, 3), np.uint8)
    image[:, :3] = (100, 100, 100)
    image[:, 3] = (105, 96, 100)  # within 5 of the seed
    image[:, 4:] = (120, 100, 100)  # too far
    full = np.zeros((8, 8), bool)
    full[:, :4] = True
    np.testing.assert_array_equal(_full(drawing.flood_fill(label, 0, 0, image, 5), 8, 8), full)
    image[:] = 100  # colour no longer limits, the label still does
    assert _full(drawing.flood_fill(label, 0, 0, image, 5), 8, 8)[:, :6].all()
    assert not _full(drawing.flood_fill(label, 0, 0, image, 5), 8, 8)[:, 6:].any()


def test_flood_fill_accepts_read_only_maps() -> None:
    label = np.zeros((5, 5), np.uint8)
    label.flags.writeable = False
    assert drawing.flood_fill(label, 0, 0)[1].all()


def test_flood_fill_large_map() -> None:
    """(Its time, ~0.1 s, is measured by tests/benchmarks/core_speed.py.)"""
    label = np.zeros((6000, 8000), np.uint8)
    label[3000, :] = 1
    rect, mask = drawing.flood_fill(label, 10, 10)
    assert rect == Rect(0, 0, 8000, 3000) and mask.all()


def test_unlabelled() -> None:
    label = np.ones((4, 5), np.uint8)
    assert drawing.unlabelled(label) is None
    label[1, 2] = 0
    rect, mask = drawing.unlabelled(label)
    assert rect == Rect(0, 0, 5, 4) and mask.sum() == 1 and mask[1, 2]
