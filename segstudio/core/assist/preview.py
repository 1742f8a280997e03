"""Pixels of an assisted tool's proposal: the map its preview layer shows and the strokes that refine it.

A proposal is an (H, W) bool region. The window shows it as a label map (1 inside, 2 on its
outline) so that the existing colour-table layer draws it; refining strokes are drawn into a bool
mask with the brush's radius, the same way the brush paints.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..geometry import Rect

INSIDE, OUTLINE = 1, 2


def proposal_map(region: np.ndarray) -> np.ndarray:
    """(H, W) uint8: 0 outside ``region``, 1 inside, 2 on its inner outline (one pixel wide)."""
    region = np.asarray(region, bool)
    inside = region.astype(np.uint8)
    eroded = cv2.erode(inside, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    out = inside.copy()  # 1 inside
    out[(inside > 0) & (eroded == 0)] = OUTLINE
    return out


def stroke_mask(height: int, width: int, points: Sequence[tuple[float, float]], radius: int) -> np.ndarray:
    """(H, W) bool: the pixels a stroke through ``points`` (canvas coordinates) with ``radius`` covers."""
    mask = np.zeros((height, width), np.uint8)
    pts = [(int(np.floor(x)), int(np.floor(y))) for x, y in points]
    thickness = max(1, 2 * int(radius) + 1)
    for a, b in zip(pts, pts[1:] or pts):
        cv2.line(mask, a, b, 1, thickness=thickness, lineType=cv2.LINE_8)
    return mask.astype(bool)


def bounding_rect(region: np.ndarray) -> Rect | None:
    """The tight rectangle around the True pixels of ``region``; None when there are none."""
    rows = np.flatnonzero(np.asarray(region, bool).any(axis=1))
    if len(rows) == 0:
        return None
    cols = np.flatnonzero(region[rows[0]:rows[-1] + 1].any(axis=0))
    return Rect(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def changes(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, int]:
    """(H, W) bool of the pixels an operation changed, and how many: what a clean-up preview shows."""
    changed = np.asarray(before) != np.asarray(after)
    return changed, int(np.count_nonzero(changed))
