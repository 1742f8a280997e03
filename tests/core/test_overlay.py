"""Overlay colouring: class colours, visibility, opacity, sub-rectangles, and the error map."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core.geometry import Rect
from segstudio.core.overlay import (
    CORRECT_RGBA,
    IGNORE_RGB,
    MISSED_RGBA,
    SCRIBBLE_BACKGROUND_RGB,
    TRANSPARENT_RGBA,
    WRONG_RGBA,
    WRONG_STRIPE_RGBA,
    colour_lut,
    colourize,
    error_map,
    mask_lut,
)
from segstudio.core.palette import voc_palette

COLOURS = np.array([(0, 0, 0), (10, 20, 30), (200, 100, 50)], np.uint8)


def test_lut_colours_alpha_and_special_rows() -> None:
    lut = colour_lut(COLOURS, opacity=0.5)
    assert lut.shape == (256, 4) and lut.dtype == np.uint8
    assert tuple(lut[1]) == (10, 20, 30, 128) and tuple(lut[2]) == (200, 100, 50, 128)
    assert lut[0, 3] == 0  # background is transparent
    assert tuple(lut[255, :3]) == IGNORE_RGB and lut[255, 3] == 128
    assert tuple(lut[7, :3]) == tuple(voc_palette()[7])  # stray values stay visible


def _distance(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, float) - np.asarray(b, float)))


def _luminance(rgb) -> float:
    r, g, b = (float(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_background_and_ignore_colours_are_distinct_and_legible() -> None:
    """Ignore is not a grey like VOC class 7; painted background in a scribble project is neither
    black (invisible at 50 % on a dark photo) nor near any default class colour or ignore."""
    defaults = voc_palette()[1:21]  # the default colours of classes 1-20
    for special in (IGNORE_RGB, SCRIBBLE_BACKGROUND_RGB):
        assert min(_distance(special, c) for c in defaults) > 60, special
        assert _luminance(special) > 80  # shows over a dark photo
    assert _distance(IGNORE_RGB, SCRIBBLE_BACKGROUND_RGB) > 150
    assert _distance(IGNORE_RGB, (128, 128, 128)) > 120  # not the grey of class 7


def test_mask_lut_in_a_scribble_project() -> None:
    plain = mask_lut(COLOURS)
    assert plain[0, 3] == 0 and tuple(plain[255, :3]) == IGNORE_RGB and plain[255, 3] == 255
    scribbles = mask_lut(COLOURS, scribbles=True)
    assert tuple(scribbles[0]) == (*SCRIBBLE_BACKGROUND_RGB, 255)  # painted background shows
    assert scribbles[255, 3] == 0  # unpainted: the photo
    assert np.array_equal(scribbles[1:255], plain[1:255])
    chosen = COLOURS.copy()
    chosen[0] = (250, 250, 0)
    assert tuple(mask_lut(chosen, scribbles=True)[0, :3]) == (250, 250, 0)  # the user's own colour wins
    hidden = mask_lut(COLOURS, visible=[False, True, True], scribbles=True)
    assert hidden[0, 3] == 0


def test_lut_visibility_and_opacity_bounds() -> None:
    lut = colour_lut(COLOURS, visible=[True, False, True], opacity=1.0)
    assert lut[1, 3] == 0 and lut[2, 3] == 255
    assert colour_lut(COLOURS, opacity=3.0)[1, 3] == 255
    assert colour_lut(COLOURS, opacity=-1)[2, 3] == 0


def test_colourize_whole_and_rect() -> None:
    lut = colour_lut(COLOURS, opacity=1.0)
    rng = np.random.default_rng(0)
    label = rng.integers(0, 3, size=(30, 40), dtype=np.uint8)
    label[0, 0] = 255
    full = colourize(label, lut)
    assert full.shape == (30, 40, 4) and full.dtype == np.uint8
    np.testing.assert_array_equal(full, lut[label])  # same as the plain row gather
    part = colourize(label, lut, Rect(5, 6, 10, 7))
    np.testing.assert_array_equal(part, full[6:13, 5:15])
    edge = colourize(label, lut, Rect(35, 25, 10, 10))  # clipped to the map
    np.testing.assert_array_equal(edge, full[25:, 35:])


def test_error_map_categories() -> None:
    gt = np.array([[0, 1, 1, 2, 255, 0]], np.uint8)
    pred = np.array([[0, 1, 0, 1, 3, 2]], np.uint8)
    out = error_map(pred, gt)
    assert out.shape == (1, 6, 4)
    # x = 4, 5 lie on a dark diagonal stripe (period 8): errors there take the stripe shade.
    expected = [TRANSPARENT_RGBA, CORRECT_RGBA, MISSED_RGBA, WRONG_RGBA, TRANSPARENT_RGBA, WRONG_STRIPE_RGBA]
    assert [tuple(px) for px in out[0]] == expected
    assert WRONG_RGBA[3] > 0 and MISSED_RGBA[3] > 0 and CORRECT_RGBA[3] < WRONG_RGBA[3]


def test_colourize_into_a_given_buffer() -> None:
    lut = colour_lut(COLOURS, opacity=0.7)
    label = np.random.default_rng(1).integers(0, 3, size=(600, 30), dtype=np.uint8)  # > one band
    out = np.zeros((600, 30, 4), np.uint8)
    assert colourize(label, lut, out=out) is out
    np.testing.assert_array_equal(out, lut[label])
    with pytest.raises(ValueError):
        colourize(label, lut, out=np.zeros((600, 31, 4), np.uint8))


def test_colourize_writes_into_a_rectangle_of_a_buffer() -> None:
    """The canvas colours a changed rectangle straight into its image buffer (no temporary)."""
    from segstudio.core.geometry import Rect

    rng = np.random.default_rng(0)
    label = rng.integers(0, 6, (60, 80), dtype=np.uint8)
    lut = rng.integers(0, 256, (256, 4), dtype=np.uint8)
    buffer = np.zeros((60, 80, 4), np.uint8)
    rect = Rect(10, 5, 30, 20)
    colourize(label, lut, rect, out=buffer[rect.slices])
    assert (buffer[rect.slices] == lut[label[rect.slices]]).all()
    outside = np.ones((60, 80), bool)
    outside[rect.slices] = False
    assert (buffer[outside] == 0).all()


def test_error_stripes_and_outline() -> None:
    from segstudio.core.overlay import MISSED_STRIPE_RGBA, outline

    gt = np.ones((8, 8), np.uint8)
    out = error_map(np.zeros((8, 8), np.uint8), gt)  # everything missed
    kinds = {tuple(px) for px in out.reshape(-1, 4)}
    assert kinds == {MISSED_RGBA, MISSED_STRIPE_RGBA}
    assert tuple(out[0, 0]) == MISSED_RGBA and tuple(out[0, 4]) == MISSED_STRIPE_RGBA
    label = np.zeros((12, 12), np.uint8)
    label[2:10, 2:10] = 3
    edge = outline(label, width=1)
    assert edge[2, 5] == 3 and edge[5, 2] == 3 and edge[5, 5] == 0 and edge[0, 0] == 0
    assert set(np.unique(edge)) == {0, 3}
