"""Small objects for click to segment: when to look again on a crop, which crop, and the mask back.

SAM and SAM 2 see every image at 1024×1024 pixels (SAM 2 stretched, SAM letterboxed) and encode
it into a 64×64 grid of features (16 px patches); their masks come out at 256×256 (a quarter of
a feature cell) and are scaled up to the image. An object a few cells wide is drawn with a
handful of mask pixels, whatever the model knows: its outline is blocky and thin parts vanish.
Embedding a padded crop around it instead gives the object many more cells and mask pixels.

The rule, in one place and without the model: :func:`feature_cells` (an object's size in the
full image's feature grid), :func:`is_small` (below :data:`SMALL_OBJECT_CELLS`),
:func:`crop_around` (the padded crop, kept inside the image), :func:`paste` (the crop's mask
placed back at its exact pixels, nothing outside it set). Measured in
``tests/benchmarks/small_object_crop.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FEATURE_GRID = 64  # SAM and SAM 2: a 1024 px input in 16 px patches
MASK_GRID = 256  # the decoder's low-resolution masks: 4 per feature cell

SMALL_OBJECT_CELLS = 12
"""An object whose longer side spans fewer feature cells than this (under 3/16 of the image's side)
is segmented again on a crop.

Why 12: weights aside, a mask is drawn on the 256² grid, 4 mask pixels a cell. With an ideal
decoder (each mask pixel exactly the object's share of it; ``tests/benchmarks/small_object_crop.py``)
on the 1307 signs, cars, pedestrians and bicyclists of the CamVid validation masks scaled to
4000×3000, the whole image's median IoU is 0.49, 0.91, 0.95, 0.96, 0.95 at 0-2, 2-4, 4-6, 6-8,
8-12 cells, with one object in ten under 0.92, and the crop brings every group to 0.99-1.00; from
12 cells up the whole image gives 0.96-0.99 (one in ten under 0.95 at most) and the crop adds at
most 0.013. A crop costs a second embedding as long as the first (the encoder's input is always
1024²; the whole-image answer is shown meanwhile), so it is taken where the grid alone costs an
object in ten more than 5 % IoU."""

CROP_CONTEXT = 3.0
"""The crop's side is this many times the object's longer side (one object's width of context on
each side): SAM decides what an object is from its surroundings, and a click's first mask may
cover only part of the object, so the crop leaves room for the whole of it."""

MIN_CROP_PIXELS = MASK_GRID
"""No crop side below this many image pixels: a crop this small already gets a mask pixel per
image pixel (the 256² mask grid), so zooming further only enlarges blur."""


@dataclass(frozen=True)
class CropBox:
    """A part of an image: x0, y0 inclusive, x1, y1 exclusive, in image pixels."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        """``image[crop.slices]`` is the crop."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def holds(self, points: np.ndarray) -> bool:
        """Whether every point (x, y) lies on one of the crop's pixels."""
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        return bool(((pts[:, 0] >= self.x0) & (pts[:, 0] < self.x1)
                     & (pts[:, 1] >= self.y0) & (pts[:, 1] < self.y1)).all())

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Points or box corners (..., 2) as x, y in image pixels → in the crop's pixels."""
        out = np.array(points, np.float64)
        out[..., 0] -= self.x0
        out[..., 1] -= self.y0
        return out


def feature_cells(box: tuple[float, float, float, float], width: int, height: int,
                  letterbox: bool = False) -> tuple[float, float]:
    """How many feature cells an object's box (x0, y0, x1, y1) spans across and down, on an image
    of ``width``×``height`` (SAM 2 stretches it to the square, SAM letterboxes: ``letterbox``)."""
    x0, y0, x1, y1 = box
    across, down = (width, height) if not letterbox else (max(width, height),) * 2
    return abs(x1 - x0) * FEATURE_GRID / across, abs(y1 - y0) * FEATURE_GRID / down


def is_small(box: tuple[float, float, float, float], width: int, height: int, letterbox: bool = False) -> bool:
    """Whether the object in ``box`` is small enough to be segmented again on a crop."""
    return max(feature_cells(box, width, height, letterbox)) < SMALL_OBJECT_CELLS


def crop_around(box: tuple[float, float, float, float], width: int, height: int) -> CropBox:
    """The crop around an object's box: a square of :data:`CROP_CONTEXT` times its longer side (at
    least :data:`MIN_CROP_PIXELS`) centred on it, moved inward where it would leave the image and
    cut to the image where the image is smaller. It always holds the whole box (clipped)."""
    bx0, bx1 = sorted((float(box[0]), float(box[2])))
    by0, by1 = sorted((float(box[1]), float(box[3])))
    side = max(math.ceil(CROP_CONTEXT * max(bx1 - bx0, by1 - by0, 1.0)), MIN_CROP_PIXELS)
    x0, x1 = _span((bx0 + bx1) / 2, side, width)
    y0, y1 = _span((by0 + by1) / 2, side, height)
    return CropBox(x0, y0, x1, y1)


def _span(centre: float, side: int, limit: int) -> tuple[int, int]:
    """[start, start + side) around ``centre``, shifted into [0, limit), cut to ``limit``."""
    side = min(side, limit)
    start = int(math.floor(centre - side / 2))
    start = min(max(start, 0), limit - side)
    return start, start + side


def small_object_crop(box: tuple[float, float, float, float] | None, width: int, height: int,
                      letterbox: bool = False) -> CropBox | None:
    """The crop to segment the object in ``box`` on, or None: no object, not small, or the crop
    would be the whole image (nothing to gain)."""
    if box is None or not is_small(box, width, height, letterbox):
        return None
    crop = crop_around(box, width, height)
    return None if (crop.width, crop.height) == (width, height) else crop


def object_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """The bounding box (x0, y0, x1, y1; ends exclusive) of a bool mask's pixels; None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def prompt_box(points: np.ndarray, box: tuple[float, float, float, float] | None,
               mask: np.ndarray | None) -> tuple[float, float, float, float] | None:
    """Where the object is: a box prompt when there is one, else the mask's bounding box grown to
    hold the object points; None when neither says."""
    if box is not None:
        return box
    found = object_box(mask) if mask is not None else None
    if found is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in found)
    for x, y in np.asarray(points, np.float64).reshape(-1, 2):
        x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x + 1), max(y1, y + 1)
    return x0, y0, x1, y1


def paste(crop_mask: np.ndarray, crop: CropBox, height: int, width: int) -> np.ndarray:
    """The (height, width) bool mask: ``crop_mask`` at the crop's pixels, False everywhere else."""
    if crop_mask.shape != (crop.height, crop.width):
        raise ValueError(f"mask is {crop_mask.shape[1]}×{crop_mask.shape[0]}, crop is {crop.width}×{crop.height}")
    if crop.x0 < 0 or crop.y0 < 0 or crop.x1 > width or crop.y1 > height:
        raise ValueError(f"crop {crop} leaves the {width}×{height} image")
    full = np.zeros((height, width), bool)
    full[crop.slices] = crop_mask
    return full
