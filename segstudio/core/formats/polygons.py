"""Regions of a mask as polygons and back, for COCO and YOLO segmentation.

Two conventions exist. YOLO (Ultralytics fills polygons with ``cv2.fillPoly``, which paints the
pixels its edges touch) wants vertices on the centres of the region's boundary pixels: OpenCV's
contours, filled back by :func:`fill_polygon`. COCO (pycocotools) samples pixel centres against
a polygon drawn in continuous coordinates, so its polygons should run along the outer pixel
edges: ``pixel_edges=True`` moves every outline half a pixel outwards (square caps on one-pixel
spikes), and :func:`fill_polygon_centres` fills a pixel when its centre is inside. Both round
trips give back exactly the region.

Neither format can express a hole, so each hole is joined to its region's outline by a cut that
runs there and back along the same segment (what Ultralytics' converters do): a filler sees the
hole as outside. ``simplify`` (pixels) lets Douglas-Peucker drop vertices; 0 keeps every corner.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import AnnotationFormatError

_CHUNK = 512  # hole points compared at once when looking for the shortest cut
REACH_FACTOR, REACH_MARGIN = 16, 1000  # how far outside its image a point may lie (see check_reach)


def mask_to_polygons(region: np.ndarray, simplify: float = 0.0, pixel_edges: bool = False) -> list[np.ndarray]:
    """One (N, 2) polygon (x, y) per 8-connected part of the bool ``region``, holes cut in: int32
    pixel centres, or float64 pixel-edge outlines with ``pixel_edges``."""
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
        if pixel_edges:
            outline = _outset(outline, outwards=True)
        child = links[index][2]
        while child != -1:
            hole = _simplified(contours[child], simplify)
            if pixel_edges:
                hole = _outset(hole, outwards=False)
            if len(hole) >= 3:
                outline = _cut_in(outline, hole)
            child = links[child][0]
        polygons.append(outline + 0.5 if pixel_edges else _at_least_three(outline))
    return polygons


def _area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _outset(points: np.ndarray, outwards: bool) -> np.ndarray:
    """A pixel-centre contour moved half a pixel to the outer pixel edges of the region: away from
    the contour's inside for an outline (``outwards``), into it for a hole's contour."""
    pts = points.astype(np.float64)
    if len(pts) == 1:
        x, y = pts[0]
        return np.array([[x - 0.5, y - 0.5], [x + 0.5, y - 0.5], [x + 0.5, y + 0.5], [x - 0.5, y + 0.5]])
    moved = _shift(pts, 1.0)
    grows = abs(_area(moved)) >= abs(_area(pts))
    return moved if grows == outwards or len(pts) < 3 else _shift(pts, -1.0)


def _shift(pts: np.ndarray, side: float) -> np.ndarray:
    """Every edge moved 0.5 to its ``side`` (mitred corners; sharp turns get a square cap)."""
    into = pts - np.roll(pts, 1, axis=0)
    out = np.roll(pts, -1, axis=0) - pts
    d1 = into / np.linalg.norm(into, axis=1, keepdims=True)
    d2 = out / np.linalg.norm(out, axis=1, keepdims=True)
    n1 = side * np.stack([d1[:, 1], -d1[:, 0]], axis=1)
    n2 = side * np.stack([d2[:, 1], -d2[:, 0]], axis=1)
    dot = (n1 * n2).sum(axis=1)
    result = []
    for i, vertex in enumerate(pts):
        if dot[i] < -1e-9:  # sharper than a right angle: cap it
            result.append(vertex + 0.5 * (n1[i] + d1[i]))
            result.append(vertex + 0.5 * (n2[i] - d2[i]))
        else:
            result.append(vertex + 0.5 * (n1[i] + n2[i]) / (1.0 + dot[i]))
    return np.asarray(result)


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
    outline64 = outline.astype(np.float64)
    for start in range(0, len(hole), _CHUNK):
        part = hole[start : start + _CHUNK].astype(np.float64)
        distance = ((outline64[:, None, :] - part[None, :, :]) ** 2).sum(axis=2)
        flat = int(distance.argmin())
        i, j = divmod(flat, distance.shape[1])
        if best is None or distance[i, j] < best:
            best, best_i, best_j = distance[i, j], i, start + j
    return np.concatenate([outline[: best_i + 1], hole[best_j:], hole[: best_j + 1], outline[best_i:]])


def check_reach(points: object, width: int, height: int, source: str) -> np.ndarray:
    """``points`` as a float64 (N, 2) array, refused (one line naming ``source``) unless they are
    finite numbers within :data:`REACH_FACTOR` image sizes of the ``width``×``height`` image.

    The one rule for every imported shape (COCO, YOLO, labelme), checked before NumPy, OpenCV or
    Pillow see the points: ±1e308 overflows to infinity in the fill's arithmetic and then to
    garbage integers, a circle of radius 1e9 takes Pillow minutes, and no genuine shape lies
    further out than a few image sizes.
    """
    try:
        array = np.asarray(points, np.float64).reshape(-1, 2)
    except (TypeError, ValueError, OverflowError) as exc:
        raise AnnotationFormatError(f"{source}: points must be x, y numbers") from exc
    if np.isnan(array).any():
        raise AnnotationFormatError(f"{source}: points must be finite numbers")
    limit = REACH_FACTOR * max(width, height) + REACH_MARGIN
    if array.size and float(np.abs(array).max()) > limit:  # infinity included
        raise AnnotationFormatError(
            f"{source}: points lie too far outside the {width}×{height} image (beyond ±{limit})")
    return array


def fill_polygon(label: np.ndarray, points: np.ndarray, value: int) -> None:
    """Paint polygon ``points`` ((N, 2) x, y in pixels, any real numbers) with ``value``, in place."""
    pts = np.round(np.asarray(points, np.float64)).astype(np.int64)
    limit = 4 * max(label.shape)  # coordinates far outside the image are clamped, not overflowed
    pts = np.clip(pts, -limit, limit).astype(np.int32)
    cv2.fillPoly(label, [pts.reshape(-1, 1, 2)], int(value))


def fill_polygon_centres(label: np.ndarray, points: np.ndarray, value: int) -> None:
    """Paint with ``value`` every pixel whose centre lies inside the polygon (even-odd rule),
    ``points`` being (N, 2) x, y in continuous coordinates where pixel (0, 0) spans [0, 1)²."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    height, width = label.shape
    top = max(0, int(np.ceil(pts[:, 1].min() - 0.5)))
    bottom = min(height - 1, int(np.floor(pts[:, 1].max() - 0.5)))
    ax, ay = pts[:, 0], pts[:, 1]
    bx, by = np.roll(ax, -1), np.roll(ay, -1)
    rows_per_chunk = max(1, 2_000_000 // max(len(pts), 1))
    for first in range(top, bottom + 1, rows_per_chunk):
        ys = np.arange(first, min(bottom + 1, first + rows_per_chunk))[:, None] + 0.5
        crosses = (ay <= ys) != (by <= ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = ax + (ys - ay) * (bx - ax) / (by - ay)
        for offset, row in enumerate(range(first, first + len(ys))):
            hits = np.sort(xs[offset][crosses[offset]])
            for start, stop in zip(hits[0::2], hits[1::2]):
                left = max(0, int(np.ceil(start - 0.5)))
                right = min(width, int(np.ceil(stop - 0.5)))
                if left < right:
                    label[row, left:right] = value
