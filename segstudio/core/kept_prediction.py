"""The "good enough" signal: how much of the model's pre-fill the user kept, and when that has settled.

For an image opened with a prediction on screen and then saved, :func:`kept_share` compares the
prediction shown at opening with the mask saved: the IoU of each class between the two (a class
predicted and kept everywhere: 1; predicted where the user painted another class: 0), and overall
the mean over the classes either holds. Pixels unlabelled in the saved mask or outside the model's
classes in the prediction (255) are left out: nobody decided anything there.

Over the labelling order these numbers rise while the model still learns from each new mask;
:func:`plateau` says when they stopped rising over the last :data:`WINDOW` images, and
:func:`plateau_sentence` says it in one sentence: more labels will change little.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segstudio.core.palette import IGNORE_INDEX

WINDOW = 10  # images the plateau is judged over
RISE = 0.03  # the later half of the window above the earlier half by less than this: settled
SPREAD = 0.15  # and no image in the window further than this from their mean (a steady level)


@dataclass(frozen=True)
class KeptShare:
    """Overall share kept (mean IoU over the classes involved) and each class's IoU."""

    overall: float
    per_class: dict[int, float]


def kept_share(shown: np.ndarray, saved: np.ndarray) -> KeptShare | None:
    """IoU of the prediction ``shown`` at opening against the mask ``saved`` (both (H, W) class
    indices, 255 ignored); None when no pixel is labelled in both."""
    if shown.shape != saved.shape:
        raise ValueError(f"prediction {shown.shape} and mask {saved.shape} differ in size")
    valid = (shown != IGNORE_INDEX) & (saved != IGNORE_INDEX)
    if not valid.any():
        return None
    a, b = shown[valid].astype(np.int64), saved[valid].astype(np.int64)
    size = int(max(a.max(), b.max())) + 1
    inter = np.bincount(a[a == b], minlength=size)
    union = np.bincount(a, minlength=size) + np.bincount(b, minlength=size) - inter
    per_class = {int(c): float(inter[c] / union[c]) for c in np.flatnonzero(union)}
    return KeptShare(float(np.mean(list(per_class.values()))), per_class)


def plateau(shares: Sequence[float], window: int = WINDOW) -> float | None:
    """The level the last ``window`` shares settled at (their mean), or None while they still rise,
    swing, or are fewer than ``window``."""
    if len(shares) < window:
        return None
    last = np.asarray(shares[-window:], float)
    half = window // 2
    if last[half:].mean() - last[:half].mean() >= RISE:
        return None
    level = float(last.mean())
    if np.abs(last - level).max() > SPREAD:
        return None
    return level


def plateau_sentence(shares: Sequence[float], window: int = WINDOW) -> str | None:
    """One sentence for the review when the shares have settled, else None."""
    level = plateau(shares, window)
    if level is None:
        return None
    return (f"The model's pre-fill is kept at {100 * level:.0f} % over the last {window} images: "
            "more labels change little.")
