"""Segmentation metrics from a confusion matrix.

The confusion matrix is counted with one ``bincount`` over ``256 * gt + pred`` (both uint8, so the
code fits a uint16 and there are no large temporaries), then cut to the classes. Pixels whose ground
truth is 255 (ignore) or not a class are skipped. A predicted value that is not a class (including
255) is a miss for the ground-truth class: it is kept in an extra last column, which counts in that
class's ground-truth total but in no class's prediction. Matrices accumulate by addition, so a
dataset's metrics come from one matrix summed over its images.

Per-class IoU, accuracy (recall) and Dice are NaN for a class absent from both ground truth and
prediction: "no evidence", shown as "—", never 0 or 1. mIoU averages the classes that are present.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _check_pair(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gt, pred = np.asarray(gt), np.asarray(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} differ in shape")
    for name, array in (("ground truth", gt), ("prediction", pred)):
        if array.dtype != np.uint8:
            if array.size and (array.min() < 0 or array.max() > 255):
                raise ValueError(f"{name} has values outside 0..255")
    return gt.astype(np.uint8, copy=False), pred.astype(np.uint8, copy=False)


def _full_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(n, n + 1) int64 counts: rows = gt class, columns = predicted class, last = not a class."""
    if not 1 <= num_classes <= 255:
        raise ValueError(f"num_classes must be 1..255, got {num_classes}")
    code = gt.astype(np.uint16).reshape(-1)
    code <<= 8
    code |= pred.reshape(-1)
    counts = np.bincount(code, minlength=65536).reshape(256, 256)
    full = np.empty((num_classes, num_classes + 1), np.int64)
    full[:, :num_classes] = counts[:num_classes, :num_classes]
    full[:, num_classes] = counts[:num_classes, num_classes:].sum(axis=1)
    return full


def confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(n, n) int64 confusion matrix (rows = ground truth, columns = prediction) of one pair.

    Predictions that are not classes are left out here; :class:`ConfusionMatrix` keeps them as misses.
    """
    gt, pred = _check_pair(gt, pred)
    return _full_matrix(gt, pred, num_classes)[:, :num_classes]


class ConfusionMatrix:
    """A confusion matrix accumulated over images."""

    def __init__(self, num_classes: int) -> None:
        if not 1 <= num_classes <= 255:
            raise ValueError(f"num_classes must be 1..255, got {num_classes}")
        self.num_classes = num_classes
        self._full = np.zeros((num_classes, num_classes + 1), np.int64)

    @property
    def matrix(self) -> np.ndarray:
        """(n, n) int64 counts, rows = ground truth, columns = prediction."""
        return self._full[:, : self.num_classes]

    @property
    def full(self) -> np.ndarray:
        """(n, n + 1) counts; the last column counts predictions that are not a class."""
        return self._full

    def update(self, gt: np.ndarray, pred: np.ndarray) -> None:
        """Add one image (uint8 label maps of the same shape)."""
        gt, pred = _check_pair(gt, pred)
        self._full += _full_matrix(gt, pred, self.num_classes)

    def remove(self, gt: np.ndarray, pred: np.ndarray) -> None:
        """Take away counts added before: an edited region's old pixels leave the matrix before its
        new ones are added, so one image's metrics follow its edits rectangle by rectangle."""
        gt, pred = _check_pair(gt, pred)
        self._full -= _full_matrix(gt, pred, self.num_classes)

    def merge(self, other: ConfusionMatrix) -> None:
        """Add another matrix's counts (from another worker or process)."""
        if other.num_classes != self.num_classes:
            raise ValueError(f"cannot merge {other.num_classes} classes into {self.num_classes}")
        self._full += other._full

    def reset(self) -> None:
        self._full[:] = 0

    def compute(self) -> SegMetrics:
        return compute_metrics(self._full)


@dataclass
class SegMetrics:
    """Per-class arrays (NaN where undefined) and summary figures (NaN when nothing was counted)."""

    iou: np.ndarray
    accuracy: np.ndarray
    dice: np.ndarray
    gt_pixels: np.ndarray
    pred_pixels: np.ndarray
    miou: float
    pixel_accuracy: float
    fw_iou: float

    @property
    def num_classes(self) -> int:
        return len(self.iou)

    def to_dict(self, class_names: Sequence[str] | None = None) -> dict:
        """Plain JSON-ready data; NaN becomes None."""

        def clean(value: float) -> float | None:
            return None if math.isnan(value) else float(value)

        names = list(class_names) if class_names is not None else [str(i) for i in range(self.num_classes)]
        per_class = [
            {
                "index": i,
                "name": names[i] if i < len(names) else str(i),
                "iou": clean(self.iou[i]),
                "accuracy": clean(self.accuracy[i]),
                "dice": clean(self.dice[i]),
                "gt_pixels": int(self.gt_pixels[i]),
                "pred_pixels": int(self.pred_pixels[i]),
            }
            for i in range(self.num_classes)
        ]
        return {
            "classes": per_class,
            "miou": clean(self.miou),
            "pixel_accuracy": clean(self.pixel_accuracy),
            "fw_iou": clean(self.fw_iou),
        }


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def compute_metrics(matrix: np.ndarray) -> SegMetrics:
    """Metrics from an (n, n) matrix, or an (n, n + 1) one whose last column counts non-class predictions."""
    matrix = np.asarray(matrix, dtype=np.int64)
    n = matrix.shape[0]
    if matrix.ndim != 2 or matrix.shape[1] not in (n, n + 1):
        raise ValueError(f"a confusion matrix is (n, n) or (n, n + 1), got {matrix.shape}")
    square = matrix[:, :n]
    tp = np.diag(square).astype(np.float64)
    gt_pixels = matrix.sum(axis=1)
    pred_pixels = square.sum(axis=0)
    union = gt_pixels + pred_pixels - tp
    iou = _ratio(tp, union)
    accuracy = _ratio(tp, gt_pixels)
    dice = _ratio(2 * tp, gt_pixels + pred_pixels)
    total = gt_pixels.sum()
    present = union > 0
    miou = float(iou[present].mean()) if present.any() else math.nan
    pixel_accuracy = float(tp.sum() / total) if total > 0 else math.nan
    labelled = gt_pixels > 0
    fw_iou = float((gt_pixels[labelled] * iou[labelled]).sum() / total) if total > 0 else math.nan
    return SegMetrics(iou, accuracy, dice, gt_pixels, pred_pixels, miou, pixel_accuracy, fw_iou)
