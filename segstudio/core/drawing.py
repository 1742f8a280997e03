"""Shapes as (rectangle, bool mask) pairs, ready for :meth:`Document.paint`.

Pure functions: they read nothing but their arguments and never touch a label map, so every tool
(brush, eraser, polygon, rectangle, fill) is tested here without a GUI. Each result is clipped to
the image; a shape that misses the image entirely gives ``None``.

Coordinates are pixel indices: the centre of pixel (x, y) is at (x, y), so a position on screen
``p`` in image units maps to ``p - 0.5``. Floats are accepted everywhere.

Brush radius ``r`` covers the pixels whose centres lie within ``r - 0.5`` of the (rounded) centre
pixel, so the brush is ``2r - 1`` pixels wide and radius 1 (or less) paints exactly one pixel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from .geometry import Rect

Shape = tuple[Rect, np.ndarray]

# cv2.fillPoly fixed-point bits: coordinates are rounded to 1/256 pixel instead of to whole pixels.
_POLY_SHIFT = 8
# Distances are compared with a little slack so that float rounding never drops a pixel that lies
# exactly on the brush edge (disk and line must agree pixel for pixel).
_EPS = 1e-9


def _reach(radius: float) -> tuple[float, int]:
    """Squared distance limit and the whole-pixel extent of a brush of ``radius``."""
    limit = max(float(radius) - 0.5, 0.0)
    return limit * limit + _EPS, int(math.floor(limit + _EPS))


def _round(value: float) -> int:
    """Round half up (not to even), so x.5 always goes the same way."""
    return int(math.floor(float(value) + 0.5))


def _finish(rect: Rect, mask: np.ndarray) -> Shape | None:
    return (rect, mask) if mask.any() else None


@lru_cache(maxsize=64)
def _stencil(radius: float) -> np.ndarray:
    limit, extent = _reach(radius)
    offsets = np.arange(-extent, extent + 1, dtype=np.float64)
    stencil = offsets[None, :] ** 2 + offsets[:, None] ** 2 <= limit
    stencil.flags.writeable = False
    return stencil


def disk(cx: float, cy: float, radius: float, width: int, height: int) -> Shape | None:
    """One round brush dab centred on the pixel nearest ``(cx, cy)``."""
    x, y = _round(cx), _round(cy)
    stencil = _stencil(float(radius))
    extent = stencil.shape[0] // 2
    full = Rect(x - extent, y - extent, stencil.shape[1], stencil.shape[0])
    rect = full.clip(width, height)
    if rect.is_empty:
        return None
    inner = rect.translated(-full.x, -full.y)
    return _finish(rect, stencil[inner.slices].copy())


def line(x0: float, y0: float, x1: float, y1: float, radius: float, width: int, height: int) -> Shape | None:
    """A round brush dragged from one point to the other: a capsule, so fast strokes have no gaps.

    Both ends are rounded to pixel centres like :func:`disk`, so the capsule contains the dabs at
    both ends exactly.
    """
    ax, ay, bx, by = _round(x0), _round(y0), _round(x1), _round(y1)
    if ax == bx and ay == by:
        return disk(ax, ay, radius, width, height)
    limit, extent = _reach(radius)
    full = Rect.from_points(min(ax, bx) - extent, min(ay, by) - extent,
                            max(ax, bx) + extent + 1, max(ay, by) + extent + 1)
    rect = full.clip(width, height)
    if rect.is_empty:
        return None
    px = np.arange(rect.x, rect.right, dtype=np.float64)[None, :] - ax
    py = np.arange(rect.y, rect.bottom, dtype=np.float64)[:, None] - ay
    dx, dy = float(bx - ax), float(by - ay)
    t = np.clip((px * dx + py * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    mask = (px - t * dx) ** 2 + (py - t * dy) ** 2 <= limit
    return _finish(rect, mask)


def polygon(points: Sequence[tuple[float, float]], width: int, height: int) -> Shape | None:
    """A filled polygon (pixels whose centres are inside or on the outline), sub-pixel accurate."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0 or not np.isfinite(pts).all():
        return None
    left, top = math.floor(pts[:, 0].min()), math.floor(pts[:, 1].min())
    right, bottom = math.ceil(pts[:, 0].max()) + 1, math.ceil(pts[:, 1].max()) + 1
    rect = Rect(left, top, right - left, bottom - top).clip(width, height)
    if rect.is_empty:
        return None
    canvas = np.zeros((rect.h, rect.w), dtype=np.uint8)
    fixed = np.round((pts - (rect.x, rect.y)) * (1 << _POLY_SHIFT)).astype(np.int64)
    # fillPoly needs int32. Vertices more than ~a million pixels away (nonsense input) are clamped,
    # which would bend the edges through them; nothing a canvas can produce comes near that.
    bound = (1 << 20) << _POLY_SHIFT
    fixed = np.clip(fixed, -bound, bound).astype(np.int32)
    cv2.fillPoly(canvas, [fixed.reshape(-1, 1, 2)], 1, lineType=cv2.LINE_8, shift=_POLY_SHIFT)
    return _finish(rect, canvas.astype(bool))


def rectangle(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> Shape | None:
    """The filled rectangle with both corner pixels included, corners in any order."""
    left, right = sorted((_round(x0), _round(x1)))
    top, bottom = sorted((_round(y0), _round(y1)))
    rect = Rect(left, top, right - left + 1, bottom - top + 1).clip(width, height)
    if rect.is_empty:
        return None
    return rect, np.ones((rect.h, rect.w), dtype=bool)


def flood_fill(
    label: np.ndarray,
    x: float,
    y: float,
    image: np.ndarray | None = None,
    tolerance: float | None = None,
) -> Shape | None:
    """The 4-connected region of pixels with the same label as ``(x, y)``.

    With ``image`` (H, W, 3) and ``tolerance``, the region is also limited to pixels whose colour
    differs from the seed pixel's by at most ``tolerance`` in every channel.
    """
    height, width = label.shape
    sx, sy = _round(x), _round(y)
    if not (0 <= sx < width and 0 <= sy < height):
        return None
    # floodFill marks the region in a mask one pixel larger on each side; a non-zero mask pixel
    # also stops the fill, which is how the label limit is added to a colour fill.
    fill_mask = np.zeros((height + 2, width + 2), dtype=np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
    if image is not None and tolerance is not None:
        if image.shape[:2] != label.shape:
            raise ValueError(f"image {image.shape[:2]} and label {label.shape} differ in size")
        fill_mask[1:-1, 1:-1] = label != label[sy, sx]
        tol = (float(tolerance),) * 3
        source = _writable(image[:, :, :3])
        _, _, _, box = cv2.floodFill(source, fill_mask, (sx, sy), 0, tol, tol, flags | cv2.FLOODFILL_FIXED_RANGE)
    else:
        source = _writable(label)
        _, _, _, box = cv2.floodFill(source, fill_mask, (sx, sy), 0, 0, 0, flags)
    rect = Rect(*(int(v) for v in box))
    region = fill_mask[1:-1, 1:-1][rect.slices] == 255
    return _finish(rect, region)


def _writable(array: np.ndarray) -> np.ndarray:
    """OpenCV refuses read-only inputs for floodFill even with MASK_ONLY (which never writes)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return array if array.flags.writeable else array.copy()


def unlabelled(label: np.ndarray, unpainted: int = 0) -> Shape | None:
    """Every unpainted pixel (background 0, or 255 in a scribble project), e.g. to give all that is
    left one class."""
    mask = label == unpainted
    height, width = label.shape
    return _finish(Rect(0, 0, width, height), mask)
