"""Colouring label maps for display: class overlay and prediction error map.

Both are a table lookup: a (256, 4) RGBA table indexed by the label value. The overlay of one brush
dab on an 8000×6000 map recolours only the changed rectangle, and the lookup is done on 32-bit
words (one gather per pixel instead of four), which keeps it well under a millisecond.

Output is straight (not premultiplied) RGBA, byte order R, G, B, A — QImage.Format_RGBA8888.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .geometry import Rect
from .palette import IGNORE_INDEX, voc_palette

# The ignore label has no class colour. Not a grey: VOC class 7 is (128, 128, 128) and a grey ignore
# looked like it. The VOC "void" cream, which the mask files already give 255 (core.palette), is far
# from every default class colour and shows on dark photos as well as on bright ones.
IGNORE_RGB = (224, 224, 192)
# In a scribble project the unpainted pixels are 255 (shown as the photo) and background is a label
# painted on purpose: it needs a colour. Black at 50 % vanished on dark photos; this vivid blue is far
# from the default class colours (navy, teal, grey...) and from the assisted tools' cyan preview.
SCRIBBLE_BACKGROUND_RGB = (30, 144, 255)

# Error map colours (RGBA). Hues far from each other and from green, each drawn as diagonal
# stripes of itself and a dark shade (the *_STRIPE_RGBA colours): a striped region stays legible
# over any photo or class colour, and the two kinds of error never look alike.
CORRECT_RGBA = (0, 200, 0, 40)  # faint green: labelled, and the prediction agrees
WRONG_RGBA = (235, 0, 235, 210)  # magenta: predicted a different class (or a class on background)
MISSED_RGBA = (255, 215, 0, 210)  # yellow: labelled in the ground truth, predicted background
WRONG_STRIPE_RGBA = (90, 0, 90, 210)
MISSED_STRIPE_RGBA = (110, 80, 0, 210)
TRANSPARENT_RGBA = (0, 0, 0, 0)  # background on both sides, or ignored in the ground truth
STRIPE_PERIOD = 8  # pixels across one light and one dark stripe

_ERROR_TABLE = np.array([TRANSPARENT_RGBA, CORRECT_RGBA, WRONG_RGBA, MISSED_RGBA,
                         WRONG_STRIPE_RGBA, MISSED_STRIPE_RGBA], dtype=np.uint8)
_TRANSPARENT, _CORRECT, _WRONG, _MISSED = range(4)
_STRIPE_SHIFT = 2  # _WRONG + 2 is its dark stripe, _MISSED + 2 likewise
_BAND_ROWS = 256


def colour_lut(
    colours: np.ndarray | Sequence[Sequence[int]],
    visible: Sequence[bool] | None = None,
    opacity: float = 0.5,
) -> np.ndarray:
    """A (256, 4) uint8 RGBA table for :func:`colourize`.

    Row ``i < len(colours)`` is class ``i`` at ``opacity`` (0 alpha when ``visible[i]`` is false),
    row 0 (background) is always transparent, row 255 (ignore) is :data:`IGNORE_RGB`, and values
    that are not classes keep their VOC colour so that stray labels remain visible.
    """
    colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 3)[:256]
    alpha = int(round(min(max(float(opacity), 0.0), 1.0) * 255))
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = voc_palette()
    lut[: len(colours), :3] = colours
    lut[IGNORE_INDEX, :3] = IGNORE_RGB
    lut[:, 3] = alpha
    if visible is not None:
        shown = np.ones(256, dtype=bool)
        flags = np.asarray(list(visible), dtype=bool)[:256]
        shown[: len(flags)] = flags
        lut[~shown, 3] = 0
    lut[0, 3] = 0
    return lut


def mask_lut(
    colours: np.ndarray | Sequence[Sequence[int]],
    visible: Sequence[bool] | None = None,
    scribbles: bool = False,
    opacity: float = 1.0,
) -> np.ndarray:
    """The mask layer's (256, 4) table: the one place that decides how background and ignore look.

    As :func:`colour_lut` (background transparent, ignore :data:`IGNORE_RGB`). In a scribble project
    (``scribbles``: unpainted pixels are 255) the unpainted pixels show the photo and painted
    background gets a colour: class 0's own when the user chose one, else
    :data:`SCRIBBLE_BACKGROUND_RGB`. ``visible`` hides classes (and ignore) as in :func:`colour_lut`.
    """
    lut = colour_lut(colours, visible, opacity)
    if scribbles:
        given = np.asarray(colours, dtype=np.uint8).reshape(-1, 3)
        chosen = tuple(int(v) for v in given[0]) if len(given) else (0, 0, 0)
        lut[0, :3] = SCRIBBLE_BACKGROUND_RGB if chosen == (0, 0, 0) else chosen
        shown = visible is None or len(visible) == 0 or bool(visible[0])
        lut[0, 3] = int(round(min(max(float(opacity), 0.0), 1.0) * 255)) if shown else 0
        lut[IGNORE_INDEX, 3] = 0
    return lut


def colourize(
    label: np.ndarray, lut: np.ndarray, rect: Rect | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """RGBA pixels (h, w, 4) of ``label`` (or of its ``rect`` part, clipped to the map).

    ``out``, an (h, w, 4) uint8 array whose rows are contiguous (the buffer behind the canvas
    image, or a rectangle of it), receives the result instead of a new array: a fresh 8000×6000
    result costs more in page faults than in the lookup itself.
    """
    if rect is not None:
        height, width = label.shape
        label = label[rect.clip(width, height).slices]
    table = np.ascontiguousarray(lut, dtype=np.uint8).reshape(256, 4).view(np.uint32).reshape(256)
    if out is None:
        out = np.empty(label.shape + (4,), dtype=np.uint8)
    elif out.shape != label.shape + (4,) or out.dtype != np.uint8 or out.strides[1:] != (4, 1):
        raise ValueError(f"out must be a {label.shape + (4,)} uint8 array with contiguous rows")
    words = out.view(np.uint32)[..., 0]
    # Row bands keep the source and the output in cache: about twice as fast on a large map.
    # mode="clip" never triggers (the table has 256 entries) but lets take write in place.
    for top in range(0, label.shape[0], _BAND_ROWS):
        np.take(table, label[top : top + _BAND_ROWS], out=words[top : top + _BAND_ROWS], mode="clip")
    return out


def error_map(pred: np.ndarray, gt: np.ndarray, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """(H, W, 4) RGBA picture of where ``pred`` disagrees with the ground truth ``gt``.

    Ignored ground truth (255) and background on both sides are transparent; agreement on a class
    is faint green; a missed object (class in gt, background predicted) is yellow; any other
    disagreement (wrong class, or a class predicted on background) is magenta. Errors are striped
    (every other diagonal band of :data:`STRIPE_PERIOD` / 2 pixels in a dark shade). ``origin``
    (x, y) is where the arrays lie in the image, so a rectangle's map continues the whole one's stripes.
    """
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in size")
    same = pred == gt
    code = np.where(same, _CORRECT, _WRONG).astype(np.uint8)
    code[same & (gt == 0)] = _TRANSPARENT
    code[~same & (pred == 0)] = _MISSED
    code[gt == IGNORE_INDEX] = _TRANSPARENT
    height, width = code.shape
    half = STRIPE_PERIOD // 2
    x0, y0 = origin
    diagonal = (np.arange(y0, y0 + height)[:, None] + np.arange(x0, x0 + width)[None, :]) % STRIPE_PERIOD >= half
    code[diagonal & (code >= _WRONG)] += _STRIPE_SHIFT
    return _ERROR_TABLE[code]


def outline(label: np.ndarray, width: int = 2) -> np.ndarray:
    """``label`` kept only within ``width`` pixels inside each region's border, 0 elsewhere.

    Drawn over the painted mask, a prediction as outlines leaves the mask readable ("both" view).
    """
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    # The image's own edge counts as a border (erosion pads with 0), so a region that fills the
    # picture still shows its outline.
    eroded = cv2.erode(label, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    edge = cv2.dilate(label, kernel) != eroded
    return np.where(edge, label, 0).astype(label.dtype)


def colour_buffer(label: np.ndarray, native_lut: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The whole layer's pixels for ``label`` (any thread): chunks of rows keep temporaries small."""
    height, width = label.shape
    if out is None:
        out = np.empty((height, width, 4), dtype=np.uint8)
    step = max(1, 4_000_000 // max(width, 1))
    for top in range(0, height, step):
        band = Rect(0, top, width, min(step, height - top))
        out[band.slices] = colourize(label, native_lut, band)
    return out
