"""What the review tables say: per-class metrics of one prediction against its painted mask, and
the last validation of a model from its history (no Qt, no torch).

Why here: the numbers must be the ones ``segstudio-cli evaluate`` and the trainer report
(``core.metrics``), and the table only formats them; keeping the arithmetic out of the dock lets it
be tested without a window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from segstudio.core.metrics import ConfusionMatrix, SegMetrics
from segstudio.core.palette import IGNORE_INDEX

DASH = "—"  # a value that does not exist (a class without pixels, no validation yet)


def metrics_of(mask: np.ndarray, prediction: np.ndarray, num_classes: int) -> SegMetrics:
    """Per-class metrics of one prediction against its painted mask, counted as
    ``segstudio-cli evaluate`` counts them: painted ignore (255) left out, a predicted class the
    project does not know (255) a miss of the painted class."""
    matrix = ConfusionMatrix(num_classes)
    matrix.update(mask, prediction)
    return matrix.compute()


def has_painting(mask: np.ndarray) -> bool:
    """True when ``mask`` holds a class other than background and ignore: before that, there is
    nothing to compare a prediction with (every IoU would be 0 or "—")."""
    return bool(((mask != 0) & (mask != IGNORE_INDEX)).any())


def format_ratio(value: float | None) -> str:
    """0.123 as "0.123"; None and NaN as the dash."""
    if value is None or math.isnan(float(value)):
        return DASH
    return f"{float(value):.3f}"


def summary_text(miou: float | None, pixel_accuracy: float | None) -> str:
    return f"mIoU {format_ratio(miou)} · pixel accuracy {format_ratio(pixel_accuracy)}"


@dataclass
class ValidationSummary:
    """The last validation of a model: per-class IoU (NaN where none) and the summary line."""

    names: list[str]
    iou: list[float]
    text: str


def last_validation(history: dict | None, class_names: list[str]) -> ValidationSummary | None:
    """The last validation in a model's history.json, or None when it has none.

    The history's own class names win (the model may have been trained on an older class list);
    ``class_names`` (the project's) stand in for a history that does not record them.
    """
    epochs = (history or {}).get("epochs") or []
    if history is None or not epochs:
        return None
    last = epochs[-1]
    names = [str(n) for n in (history.get("class_names") or class_names)]
    values = list(last.get("val_iou") or [])
    iou = [math.nan if i >= len(values) or values[i] is None else float(values[i]) for i in range(len(names))]
    epoch = last.get("epoch", len(epochs))
    text = f"Epoch {epoch}: " + summary_text(last.get("val_miou"), last.get("val_pixel_accuracy"))
    return ValidationSummary(names, iou, text)
