"""``history.json`` of a training run: the one writer and the one reader (no torch).

The trainer writes it at every validation point; the window (curves, the models list, the review
of the last validation) and the command line read it back. Written as standard JSON: a metric
without pixels (NaN) or a best score not yet set (-Infinity) is ``null``, because Python's
``NaN``/``-Infinity`` literals are rejected by other JSON readers; older files with them still read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from segstudio.core.atomic import atomic_write_text

from .model_files import HISTORY_FILE


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

    Reads the standard files written now and the older ones with NaN/-Infinity literals alike.
    """
    try:
        data = json.loads((Path(folder) / HISTORY_FILE).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("epochs"), list):
        return None
    return _clean(data)


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
