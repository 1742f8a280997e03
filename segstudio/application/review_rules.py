"""Review rules: what "accept the prediction" writes into a mask, and the error map of one class
(no Qt, no torch).

Why here: these rules decide what lands in a user's mask, so they are plain functions on arrays,
tested without a window; the prediction layer only calls them and shows the result.
"""

from __future__ import annotations

import enum

import numpy as np

from segstudio.core import overlay
from segstudio.core.palette import IGNORE_INDEX


class AcceptMode(enum.Enum):
    ALL = "All classes"
    UNLABELLED = "Only unlabelled pixels"
    CLASS = "Only one class"


def class_lut(model_names: list[str], project_names: list[str]) -> np.ndarray:
    """(256,) uint8 table from model class index to project class index, by name.

    A model class whose name the project lacks keeps its index when both lists have the same length
    and the project's class at that index matches no model class (a class renamed since training);
    otherwise it becomes background.
    """
    lut = np.zeros(256, np.uint8)
    lut[IGNORE_INDEX] = IGNORE_INDEX
    wanted = {name.strip().lower(): i for i, name in enumerate(project_names)}
    model_keys = {str(name).strip().lower() for name in model_names}
    same_length = len(model_names) == len(project_names)
    for i, name in enumerate(model_names[:255]):
        j = wanted.get(str(name).strip().lower())
        if j is None and same_length and project_names[i].strip().lower() not in model_keys:
            j = i  # renamed since training (that project class is no other model class's name)
        lut[i] = j if j is not None and j < 255 else 0
    return lut


def accepted_label(mask: np.ndarray, prediction: np.ndarray, mode: AcceptMode, class_index: int = 1) -> np.ndarray:
    """The mask after accepting ``prediction`` in ``mode`` (a new array; ``mask`` is unchanged).

    Ignore pixels (255) the user painted are never overwritten; UNLABELLED writes only where the
    mask is still background (0); CLASS only where ``class_index`` is predicted.
    """
    if mask.shape != prediction.shape:
        raise ValueError(f"prediction {prediction.shape} and mask {mask.shape} differ in size")
    writable = mask != IGNORE_INDEX
    if mode is AcceptMode.UNLABELLED:
        writable &= mask == 0
    elif mode is AcceptMode.CLASS:
        writable &= prediction == class_index
    result = mask.copy()
    result[writable] = prediction[writable]
    return result


def class_error_map(prediction: np.ndarray, mask: np.ndarray, class_index: int | None) -> np.ndarray:
    """Error map (``core.overlay.error_map``); with ``class_index``, only pixels where that class
    is painted or predicted (the review table's class filter)."""
    rgba = overlay.error_map(prediction, mask)
    if class_index is not None:
        rgba[(mask != class_index) & (prediction != class_index)] = 0
    return rgba
