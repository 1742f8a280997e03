"""Which live model the overlay shows: the instant learner until the deep model does better.

Both learn from the same strokes minus a share kept aside (:func:`split_aside`: one tile in five of
a fixed 48-pixel grid, so each stroke long enough crosses one and gives part of itself), and each
cycle both predict the image on screen; :class:`ShownModel` scores them on its aside pixels (pixels
neither has trained on), keeps the latest score of each image, and shows the deep model once its
class-balanced accuracy over those images beats the instant learner's by :data:`MARGIN` (and goes
back if it falls that far behind: no flicker between two equal models).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from segstudio.core.palette import IGNORE_INDEX

TILE = 48  # px: aside pixels far enough from the learnt ones that a pixel classifier cannot just
# copy its neighbours (at 24 px it scored 0.90 against the deep model's 0.87 on aside strokes of
# CamVid scenes while the deep model was already better on the held-out scenes)
ASIDE_EVERY = 5  # one tile in five
MARGIN = 0.02
MIN_ASIDE = 200  # aside pixels needed before the deep model can be judged
INSTANT, DEEP = "instant", "deep"


def aside_mask(shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) bool: the pixels kept aside (a fixed diagonal pattern of tiles; smaller tiles on a
    small image, at least four along its short side, so that it is never all aside)."""
    tile = max(1, min(TILE, min(shape[0], shape[1]) // 4))
    rows = np.arange(shape[0])[:, None] // tile
    cols = np.arange(shape[1])[None, :] // tile
    return (rows * 2 + cols) % ASIDE_EVERY == 0


def split_aside(label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels to learn from, labels kept aside): each has 255 where the other has a label."""
    aside = aside_mask(label.shape)
    learn = np.where(aside, np.uint8(IGNORE_INDEX), label).astype(np.uint8)
    kept = np.where(aside, label, np.uint8(IGNORE_INDEX)).astype(np.uint8)
    return learn, kept


@dataclass
class _Counts:
    """Per class: aside pixels, and how many of them each model got right."""

    total: np.ndarray
    instant: np.ndarray
    deep: np.ndarray


class ShownModel:
    """The rule: records each image's aside pixels against both predictions, says which to show."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self._records: dict[Hashable, _Counts] = {}
        self.shown = INSTANT

    def record(self, image: Hashable, aside: np.ndarray, instant: np.ndarray, deep: np.ndarray) -> str:
        """Score both predictions on ``aside`` (labels, 255 elsewhere) of ``image``; which to show now."""
        valid = (aside != IGNORE_INDEX) & (aside < self.num_classes)
        truth = aside[valid].astype(np.int64)
        if len(truth) == 0:
            return self.shown
        k = self.num_classes
        self._records[image] = _Counts(np.bincount(truth, minlength=k),
                                       np.bincount(truth, weights=instant[valid] == truth, minlength=k),
                                       np.bincount(truth, weights=deep[valid] == truth, minlength=k))
        return self._decide()

    def scores(self) -> tuple[float, float, int]:
        """(instant, deep) class-balanced accuracy over the recorded aside pixels, and their count."""
        if not self._records:
            return float("nan"), float("nan"), 0
        records = list(self._records.values())
        total = np.sum([r.total for r in records], axis=0)
        seen = total > 0
        if not seen.any():
            return float("nan"), float("nan"), 0
        instant = np.sum([r.instant for r in records], axis=0)[seen] / total[seen]
        deep = np.sum([r.deep for r in records], axis=0)[seen] / total[seen]
        return float(instant.mean()), float(deep.mean()), int(total.sum())

    def _decide(self) -> str:
        instant, deep, count = self.scores()
        if count < MIN_ASIDE:
            return self.shown
        if self.shown == INSTANT and deep > instant + MARGIN:
            self.shown = DEEP
        elif self.shown == DEEP and instant > deep + MARGIN:
            self.shown = INSTANT
        return self.shown

    def forget(self) -> None:
        """The labels were reset (another project): judge again from nothing."""
        self._records.clear()
        self.shown = INSTANT
