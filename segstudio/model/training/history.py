"""``history.json`` of a training run: the one writer and the one reader (no torch).

The trainer writes it at every validation point; the window (curves, the models list, the review
of the last validation) and the command line read it back. Written as standard JSON: a metric
without pixels (NaN) or a best score not yet set (-Infinity) is ``null``, because Python's
``NaN``/``-Infinity`` literals are rejected by other JSON readers; older files with them still read.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from segstudio.core.atomic import atomic_write_text
from segstudio.core.errors import SegStudioError
from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json
from segstudio.model.weights.model_files import HISTORY_FILE

from .options import MAX_STEPS


def _clean(value: Any) -> Any:
    """Non-finite floats (NaN, ±Infinity) -> None recursively, so the JSON is standard: Python
    writes them as the literals NaN and -Infinity, which other JSON readers reject."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_history(folder: Path, history: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    """``history.json``: ``{"epochs": [...], **extra}``, non-finite numbers written as null."""
    payload = {"epochs": history, **(extra or {})}
    atomic_write_text(folder / HISTORY_FILE, json.dumps(_clean(payload), indent=1, allow_nan=False))


def read_history(folder: str | Path) -> dict[str, Any] | None:
    """``history.json`` of ``folder`` with non-finite numbers as None, or None when absent or unusable.

    Reads the standard files written now and the older ones with NaN/-Infinity literals alike. The
    file is read bounded (a regular file only: a pipe would freeze the Models dock) and every value
    the window and the command line use is checked for its type and range (:func:`_typed`): a
    received project's history may hold 1e308 epochs, a string of class names, or a bool for a score.
    """
    path = Path(folder) / HISTORY_FILE
    if not os.path.lexists(path):
        return None
    try:
        data = read_json(path, SMALL_JSON_LIMIT, SegStudioError, "training history")
    except SegStudioError:
        return None
    if not isinstance(data.get("epochs"), list):
        return None
    return _typed(_clean(data))


# The values of history.json the readers use, with their ranges: (low, high, whole number).
_TOP_FIELDS = {"best_miou": (0.0, 1.0, False), "step": (0, MAX_STEPS, True),
               "total_steps": (0, MAX_STEPS, True), "steps": (0, MAX_STEPS, True)}
_EPOCH_FIELDS = {"epoch": (0, MAX_STEPS, True), "step": (0, MAX_STEPS, True),
                 "train_loss": (0.0, 1e6, False), "val_miou": (0.0, 1.0, False),
                 "val_pixel_accuracy": (0.0, 1.0, False), "seconds": (0.0, 1e9, False),
                 "elapsed": (0.0, 1e9, False), "lr": (0.0, 10.0, False)}


def _in_range(value: Any, low: float, high: float, whole: bool) -> float | int | None:
    """``value`` when it is a number (not a bool) within [low, high] (and whole when asked), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return None
    if whole:
        return int(value) if float(value).is_integer() else None
    return value


def _typed(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each known value checked (:func:`_check_fields`), class names that are not a
    list of strings and epochs that are not objects dropped; genuine values stay as they were."""
    _check_fields(data, _TOP_FIELDS)
    names = data.get("class_names")
    if "class_names" in data and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        del data["class_names"]
    data["epochs"] = [_typed_epoch(e) for e in data["epochs"] if isinstance(e, dict)]
    return data


def _check_fields(data: dict[str, Any], fields: dict[str, tuple[float, float, bool]]) -> None:
    """A metric of the wrong type or out of range becomes None (no value, as NaN is written); a
    count (epoch, step) that is not a whole number in range is dropped: its readers then count
    the points themselves, and ``int(None)`` would fail."""
    for key, (low, high, whole) in fields.items():
        if key not in data:
            continue
        data[key] = _in_range(data[key], low, high, whole)
        if whole and data[key] is None:
            del data[key]


def _typed_epoch(epoch: dict[str, Any]) -> dict[str, Any]:
    _check_fields(epoch, _EPOCH_FIELDS)
    if "val_iou" in epoch:
        values = epoch["val_iou"] if isinstance(epoch["val_iou"], list) else []
        epoch["val_iou"] = [_in_range(v, 0.0, 1.0, False) for v in values]
    return epoch


def best_miou(history: dict[str, Any] | None) -> float:
    """The run's best validation mIoU (its record, else the best epoch), NaN when it has none."""
    if not history:
        return math.nan
    best = history.get("best_miou")
    if isinstance(best, (int, float)) and best >= 0:
        return float(best)
    values = [e.get("val_miou") for e in history["epochs"]
              if isinstance(e, dict) and isinstance(e.get("val_miou"), (int, float))]
    return max(values) if values else math.nan
