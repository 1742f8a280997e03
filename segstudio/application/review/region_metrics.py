"""One image's metrics kept up to date as the mask is painted, rectangle by rectangle.

A confusion matrix of the whole image costs a pass over every pixel (tens of milliseconds at 12
megapixels); recounting it for every pause in painting held the window's thread. Here the whole
image is counted once (on a worker), with a copy of the mask as counted; each edited rectangle then
takes its old pixels out of the matrix and puts its new ones in, reading only that rectangle.
"""

from __future__ import annotations

import numpy as np

from segstudio.core.geometry import Rect
from segstudio.core.metrics import ConfusionMatrix, SegMetrics
from segstudio.core.palette import IGNORE_INDEX


def _painted(mask: np.ndarray) -> int:
    """Pixels of a class other than background and ignore."""
    return int(np.count_nonzero((mask != 0) & (mask != IGNORE_INDEX)))


class RegionMetrics:
    """The confusion of ``prediction`` against a painted mask, updated by rectangles."""

    def __init__(self, mask: np.ndarray, prediction: np.ndarray, num_classes: int) -> None:
        """Count the whole image (any thread): ``mask`` is copied, ``prediction`` kept as it is."""
        self.prediction = prediction
        self._counted = np.array(mask, dtype=np.uint8, copy=True)
        self._matrix = ConfusionMatrix(num_classes)
        self._matrix.update(self._counted, prediction)
        self._painted = _painted(self._counted)

    @property
    def has_painting(self) -> bool:
        """True when the mask holds a class other than background and ignore (else: nothing to compare)."""
        return self._painted > 0

    def update(self, mask: np.ndarray, rect: Rect) -> None:
        """The pixels of ``mask`` under ``rect`` may have changed since they were counted."""
        height, width = self._counted.shape
        rect = rect.clip(width, height)
        if rect.is_empty:
            return
        old, new = self._counted[rect.slices], np.asarray(mask)[rect.slices]
        predicted = self.prediction[rect.slices]
        self._matrix.remove(old, predicted)
        self._matrix.update(new, predicted)
        self._painted += _painted(new) - _painted(old)
        old[...] = new

    def metrics(self) -> SegMetrics:
        return self._matrix.compute()
