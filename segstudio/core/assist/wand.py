"""Magic wand: the region of pixels whose colour is close to the clicked pixel's.

"Close" is the largest per-channel difference from the seed colour (what OpenCV's fixed-range
flood fill measures), so tolerance 0 selects exactly the flat region under the click and 255
everything. :class:`WandSession` computes the distance map once per click; changing the tolerance
while the mouse drags then costs one flood fill of a one-channel image.
"""

from __future__ import annotations

import cv2
import numpy as np


def colour_distance(image: np.ndarray, seed: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8: the largest per-channel difference of every pixel from the seed pixel."""
    x, y = seed
    pixels = np.ascontiguousarray(image if image.ndim == 3 else image[:, :, None], dtype=np.uint8)
    planes = cv2.split(pixels)[:3] if pixels.shape[2] > 1 else [pixels.reshape(pixels.shape[:2])]
    diffs = [cv2.absdiff(plane, np.full(1, plane[y, x], np.uint8)).reshape(plane.shape) for plane in planes]
    distance = diffs[0]
    for diff in diffs[1:]:
        distance = cv2.max(distance, diff)
    return distance


class WandSession:
    """One click of the wand: ask :meth:`region` for any tolerance (e.g. while dragging)."""

    def __init__(self, image: np.ndarray, seed: tuple[int, int], connectivity: int = 8) -> None:
        height, width = image.shape[:2]
        x, y = int(seed[0]), int(seed[1])
        if not (0 <= x < width and 0 <= y < height):
            raise ValueError(f"seed {seed} is outside the {width}×{height} image")
        if connectivity not in (4, 8):
            raise ValueError("connectivity must be 4 or 8")
        self.seed = (x, y)
        self.connectivity = connectivity
        self.distance = colour_distance(image, self.seed)

    def region(self, tolerance: int, contiguous: bool = True) -> np.ndarray:
        """(H, W) bool: pixels within ``tolerance`` (0..255) of the seed colour, connected to the
        seed when ``contiguous`` (else anywhere in the image)."""
        tolerance = int(np.clip(tolerance, 0, 255))
        if not contiguous:
            return self.distance <= tolerance
        height, width = self.distance.shape
        mask = np.zeros((height + 2, width + 2), np.uint8)
        flags = self.connectivity | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
        cv2.floodFill(self.distance, mask, self.seed, 0, 0, tolerance, flags)
        return mask[1:-1, 1:-1].astype(bool)


def magic_wand(
    image: np.ndarray, seed: tuple[int, int], tolerance: int, contiguous: bool = True, connectivity: int = 8
) -> np.ndarray:
    """(H, W) bool region grown from ``seed`` = (x, y) over pixels within ``tolerance`` of its colour."""
    return WandSession(image, seed, connectivity).region(tolerance, contiguous)
