"""The "label this image next" score: one number per predicted image, higher = the model is less sure.

The window shows it after each file name and sorts the file list by it, least certain first, so it
must (1) rank images by how wrong the model really is on them and (2) spread, so that the list
shows visibly different numbers. The plain mean of the per-pixel entropy does neither well: the
background and the object boundaries (uncertain in every image, at every stage of training)
dominate the mean, so every image looks alike (the demo's scores sat between 0.28 and 0.29) and a
small object the model has no idea about barely moves it.

The score here is **class-balanced doubt**: for each class the model predicts in the image, the
mean of ``1 - margin`` (margin = top-1 minus top-2 probability) over the pixels predicted as that
class; then the plain mean over those classes, so each class weighs the same whatever its area. An
image whose small objects are torn between two classes scores high even when its background is
easy -- which is what a per-image mIoU punishes. The margin rather than the entropy because the
entropy of a barely trained model is near 1 on every pixel (K-way spread), so entropy scores bunch
at 0.94-0.99 early in training; the margin only looks at the two classes the model hesitates
between and keeps spreading.

Measured with ``tests/benchmarks/uncertainty_rank.py --steps 30,140`` (tiny SegFormer trained
from scratch on 48 generated 96-px scenes of 5 classes; three held-out sets of 36 images, one half
in unseen styles). Cells: Spearman rho between score and the true per-image error, 1 - pixel
accuracy / 1 - mIoU over present classes, mean over the three sets; then the p90 - p10 spread of
the scores over all 108 images:

=========================  ==============================  ==============================
score                      30 steps (val mIoU 0.29)        140 steps (val mIoU 0.38)
=========================  ==============================  ==============================
old: mean entropy          0.26 / 0.00, spread 0.04        0.33 / -0.03, spread 0.20
mean 1 - margin            0.35 / 0.03, spread 0.12        0.33 / -0.12, spread 0.19
top 10 % entropy           0.32 / 0.12, spread 0.01        0.41 / 0.19, spread 0.51
class-mean entropy         0.29 / 0.11, spread 0.03        0.25 / 0.58, spread 0.29
class-mean top 20 % ent.   0.37 / 0.16, spread 0.02        0.40 / 0.38, spread 0.38
**class-balanced doubt**   0.34 / 0.18, spread 0.14        0.17 / 0.62, spread 0.34
=========================  ==============================  ==============================

Class-balanced doubt has the best mean of the four correlations (0.33; the old score 0.14; the
class mean of 1 - confidence ties at 0.33 but spreads less, 0.10 and 0.25) and, of the leaders,
the only visible spread on a barely trained model. Its price: against pixel accuracy alone it
ranks worse than the old score on the trained model (0.17 vs 0.33) -- it deliberately weighs a
small confused object as much as a wrong background, as mIoU does. No candidate ranks the
unseen-style images well (a model is confidently wrong on a style it never saw); with 36 images a
set, differences under ~0.15 in rho are noise.

Computed from the maps the predictor already has (margin and labels), in row bands so that a
6000 x 4000 photo needs no extra full-size float64 copy.
"""

from __future__ import annotations

import numpy as np

_BAND_PIXELS = 1 << 20  # pixels per band of the per-class sums


def class_balanced_doubt(margin: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the predicted classes of the mean ``1 - margin`` of that class's pixels.

    ``margin``: (H, W) top-1 minus top-2 probability; ``labels``: (H, W) predicted class indices.
    Returns a value in [0, 1] (1 = a coin toss between two classes everywhere); 0.0 for an empty
    image.
    """
    if margin.shape != labels.shape:
        raise ValueError(f"margin {margin.shape} and labels {labels.shape} differ in shape")
    if margin.size == 0:
        return 0.0
    sums, counts = _class_sums(margin, labels)
    present = counts > 0
    doubt = 1.0 - sums[present] / counts[present]
    return min(1.0, max(0.0, float(doubt.mean())))


def _class_sums(values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class sum of ``values`` (float64) and pixel count, accumulated over row bands."""
    size = int(labels.max()) + 1
    sums = np.zeros(size, np.float64)
    counts = np.zeros(size, np.int64)
    rows = max(1, _BAND_PIXELS // max(1, labels.shape[-1]))
    for top in range(0, labels.shape[0], rows):
        lab = labels[top:top + rows].ravel()
        sums += np.bincount(lab, weights=values[top:top + rows].ravel(), minlength=size)
        counts += np.bincount(lab, minlength=size)
    return sums, counts


def image_score(margin: np.ndarray, labels: np.ndarray) -> float:
    """The score :attr:`Prediction.score` shows and sorts by: :func:`class_balanced_doubt`."""
    return class_balanced_doubt(margin, labels)
