"""The simulated person of the clicks benchmark: where the next click goes, and how clicks are counted.

Not a test module (tests/core/test_click_sim.py tests it). Pure numpy/OpenCV, no tool in it.

The rule, as interactive-segmentation benchmarks count clicks (NoC, RITM's protocol), with the one
change the task asks for: the first click goes to the object's interior point farthest from its
edge; every next click goes to the error region with the most pixels (8-connected parts of the
missed object, "false negatives", and of the wrongly taken background, "false positives", compared
by area), at its own interior point farthest from its edge, positive for missed object and
negative for wrongly taken background. (RITM picks the error pixel farthest from any error edge
over all regions, i.e. the thickest region; here the largest one.) The image border counts as an
edge. Pixels marked as ignored (CamVid's void) are never errors and never counted in the IoU.

Real people click less precisely than that (RClicks, Antonov et al., NeurIPS 2024): each click is
moved by seeded Gaussian jitter of a few pixels, drawn again (up to 20 times) while it would fall
outside the region aimed at, and left at the centre when every draw does. A box (GrabCut's first
gesture) is the object's bounding box with each side moved the same way.

NoC@t is the number of clicks after which the IoU first reaches t; an object that never reaches it
within the budget counts as the budget (20) and as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_CLICKS = 20
JITTER = 3.0  # px, standard deviation of a click's offset from the aimed point
TRIES = 20


@dataclass(frozen=True)
class Click:
    x: int
    y: int
    positive: bool  # True: "this is the object"; False: "this is not"
    depth: float  # distance from the clicked pixel to the edge of its error region (px)


def edge_distance(region: np.ndarray) -> np.ndarray:
    """(H, W) float32: each region pixel's distance to the nearest pixel outside it (the image border
    counts as outside); 0 outside the region."""
    padded = np.pad(np.asarray(region, np.uint8), 1)
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def farthest_from_edge(region: np.ndarray) -> tuple[int, int] | None:
    """(x, y) of the region's pixel farthest from its edge (the first in raster order on a tie); None
    for an empty region."""
    distance = edge_distance(region)
    if not distance.any():
        return None
    y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return int(x), int(y)


def largest_part(region: np.ndarray) -> np.ndarray:
    """The 8-connected part of ``region`` with the most pixels (empty when the region is)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(np.asarray(region, np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(region.shape, bool)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def jittered(region: np.ndarray, point: tuple[int, int], rng: np.random.Generator,
             sigma: float = JITTER) -> tuple[int, int]:
    """``point`` moved by Gaussian jitter, kept inside ``region`` (the point itself when no draw is)."""
    height, width = region.shape
    for _ in range(TRIES if sigma > 0 else 0):
        dx, dy = rng.normal(0.0, sigma, 2)
        x, y = int(round(point[0] + dx)), int(round(point[1] + dy))
        if 0 <= x < width and 0 <= y < height and region[y, x]:
            return x, y
    return point


def next_click(truth: np.ndarray, prediction: np.ndarray, valid: np.ndarray, rng: np.random.Generator,
               sigma: float = JITTER) -> Click | None:
    """Where the simulated person clicks next, or None when there is no error left.

    ``truth``, ``prediction``, ``valid``: (H, W) bool; with an empty prediction this is the first
    click, at the object's centre."""
    missed = truth & ~prediction & valid
    extra = prediction & ~truth & valid
    parts = [(largest_part(missed), True), (largest_part(extra), False)]
    region, positive = max(parts, key=lambda part: int(part[0].sum()))  # a tie goes to the missed object
    centre = farthest_from_edge(region)
    if centre is None:
        return None
    x, y = jittered(region, centre, rng, sigma)
    return Click(x, y, positive, float(edge_distance(region)[y, x]))


def jittered_box(truth: np.ndarray, rng: np.random.Generator, sigma: float = JITTER,
                 margin: int = 2) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), x1/y1 exclusive: the object's bounding box plus ``margin`` px, each side
    moved by Gaussian jitter, clipped to the image."""
    ys, xs = np.nonzero(truth)
    height, width = truth.shape
    sides = np.array([xs.min() - margin, ys.min() - margin, xs.max() + 1 + margin, ys.max() + 1 + margin], float)
    x0, y0, x1, y1 = (int(round(v)) for v in sides + rng.normal(0.0, sigma, 4))
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def iou(truth: np.ndarray, prediction: np.ndarray, valid: np.ndarray) -> float:
    """Intersection over union of two (H, W) bool masks over the valid pixels (1.0 when both are empty)."""
    union = int(((truth | prediction) & valid).sum())
    return 1.0 if union == 0 else int((truth & prediction & valid).sum()) / union


def clicks_to(ious: list[float], threshold: float, budget: int = MAX_CLICKS) -> int:
    """NoC: the number of clicks after which ``ious`` (IoU after click 1, 2, …) first reaches
    ``threshold``; ``budget`` when it never does within the budget."""
    for index, value in enumerate(ious[:budget]):
        if value >= threshold:
            return index + 1
    return budget


def iou_after(ious: list[float], clicks: int) -> float:
    """The IoU after ``clicks`` clicks; the last one reached when the simulation stopped earlier
    (it stops only with nothing left to correct or past every threshold, so the mask stands)."""
    if not ious:
        return 0.0
    return ious[min(clicks, len(ious)) - 1]
