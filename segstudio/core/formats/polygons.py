"""Regions of a mask as polygons and back, for COCO and YOLO segmentation.

Vertices are the centres of the region's boundary pixels (OpenCV's contours), so filling a polygon
with OpenCV, which paints its edges, gives back exactly the pixels of the region. Neither format
can express a hole, so each hole is joined to its region's outline by a cut that runs there and
back along the same segment (what Ultralytics' converters do): a filler sees the hole as outside.
``simplify`` (pixels) lets Douglas-Peucker drop vertices; 0 keeps every corner.
"""

from __future__ import annotations

import cv2
import numpy as np

_CHUNK = 512  # hole points compared at once when looking for the shortest cut


def mask_to_polygons(region: np.ndarray, simplify: float = 0.0) -> list[np.ndarray]:
    """One (N, 2) int32 polygon (x, y) per 8-connected part of the bool ``region``, holes cut in."""
    contours, hierarchy = cv2.findContours(
        np.asarray(region, np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE
    )
    if hierarchy is None:
        return []
    links = hierarchy[0]
    polygons = []
    for index, contour in enumerate(contours):
        if links[index][3] != -1:
            continue  # a hole: joined to its outline below
        outline = _simplified(contour, simplify)
        child = links[index][2]
        while child != -1:
            hole = _simplified(contours[child], simplify)
            if len(hole) >= 3:
                outline = _cut_in(outline, hole)
            child = links[child][0]
        polygons.append(_at_least_three(outline))
    return polygons


def _simplified(contour: np.ndarray, simplify: float) -> np.ndarray:
    if simplify > 0 and len(contour) > 3:
        contour = cv2.approxPolyDP(contour, simplify, True)
    return contour.reshape(-1, 2).astype(np.int32)


def _at_least_three(points: np.ndarray) -> np.ndarray:
    """COCO and YOLO want 3+ vertices: a one- or two-pixel region repeats its points."""
    if len(points) >= 3:
        return points
    return np.concatenate([points, points[::-1], points])[:3]


def _cut_in(outline: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``outline`` with ``hole`` spliced in at their closest pair of vertices."""
    best, best_i, best_j = None, 0, 0
    outline64 = outline.astype(np.int64)
    for start in range(0, len(hole), _CHUNK):
        part = hole[start : start + _CHUNK].astype(np.int64)
        distance = ((outline64[:, None, :] - part[None, :, :]) ** 2).sum(axis=2)
        flat = int(distance.argmin())
        i, j = divmod(flat, distance.shape[1])
        if best is None or distance[i, j] < best:
            best, best_i, best_j = distance[i, j], i, start + j
    return np.concatenate(
        [outline[: best_i + 1], hole[best_j:], hole[: best_j + 1], outline[best_i:]]
    ).astype(np.int32)


def fill_polygon(label: np.ndarray, points: np.ndarray, value: int) -> None:
    """Paint polygon ``points`` ((N, 2) x, y in pixels, any real numbers) with ``value``, in place."""
    pts = np.round(np.asarray(points, np.float64)).astype(np.int64)
    limit = 4 * max(label.shape)  # coordinates far outside the image are clamped, not overflowed
    pts = np.clip(pts, -limit, limit).astype(np.int32)
    cv2.fillPoly(label, [pts.reshape(-1, 1, 2)], int(value))
