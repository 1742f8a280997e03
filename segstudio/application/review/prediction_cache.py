"""The prediction cache on disk and the uncertainty order it gives the file list (no Qt, no torch).

Why a cache: predicting an image takes a model load and a forward pass; an image looked at again,
or a whole folder scored by *Predict all unlabelled*, should cost neither. Each model has its own
folder ``<save_dir>/.segstudio/predictions/<model>/``: ``<stem>.png`` holds the model's raw class
indices (its own numbering, mapped onto the project's classes only when shown), and ``scores.json``
the uncertainty score of each image (``Prediction.score``, see ``segstudio.model.uncertainty``).
A cached file counts only while it is newer than both the image and the model weights. User
masks are never written here.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np

from segstudio.core.atomic import atomic_write_text
from segstudio.core.errors import SegStudioError
from segstudio.core.journal import STATE_FOLDER
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.paths import own_path
from segstudio.core.project import Project
from segstudio.core.safe_read import JSON_LIMIT, read_json

PREDICTIONS_FOLDER = "predictions"
SCORES_FILE = "scores.json"

_SCORES_LOCK = threading.Lock()  # scores.json is read, changed and rewritten: one writer at a time


def cache_folder(save_dir: str | os.PathLike, model_path: Path) -> Path:
    """The cache folder of one model (a model folder's name, or a checkpoint file's stem)."""
    name = model_path.name if model_path.is_dir() else model_path.stem
    return Path(save_dir) / STATE_FOLDER / PREDICTIONS_FOLDER / name


def _made(folder: Path) -> Path:
    """Create the cache folder ``<save_dir>/.segstudio/predictions/<model>`` (:func:`cache_folder`),
    each of its three levels a real folder of the app's own (``core.paths.own_path``): a received
    project whose ``.segstudio/predictions`` links elsewhere never gets files written there."""
    levels = folder.parts[-3:]
    return own_path(folder.parents[len(levels) - 1], *levels, create=True)


def read_scores(folder: Path) -> dict[str, float]:
    """{image stem: score} of a cache folder; {} when there is none or it is not a JSON object.
    Read bounded, a regular file only; a score that is not a number from 0 to 1 is left out."""
    path = folder / SCORES_FILE
    if not os.path.lexists(path):
        return {}
    try:
        data = read_json(path, JSON_LIMIT, SegStudioError, "prediction scores")
    except SegStudioError:
        return {}
    return {str(k): float(v) for k, v in data.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0}


def read_cached(folder: Path, image_path: Path, model_mtime: float) -> tuple[np.ndarray, float] | None:
    """(labels, score) of ``image_path`` when the cache holds a fresh, readable copy, else None."""
    cached = folder / f"{image_path.stem}.png"
    try:
        fresh = cached.stat().st_mtime >= max(image_path.stat().st_mtime, model_mtime)
    except OSError:
        return None
    score = read_scores(folder).get(image_path.stem) if fresh else None
    if score is None:
        return None
    try:
        return read_mask(cached), score
    except SegStudioError:
        return None  # unreadable: the caller predicts again


def store(folder: Path, stem: str, labels: np.ndarray, score: float) -> bool:
    """Cache one prediction; False when the folder cannot be written (a read-only save folder:
    predictions still work, only uncached)."""
    try:
        _made(folder)
        write_mask(folder / f"{stem}.png", labels)
    except (OSError, SegStudioError):
        return False
    return store_scores(folder, {stem: score})


def store_scores(folder: Path, new: dict[str, float]) -> bool:
    """Add ``new`` ({image stem: score}) to a cache folder's scores; False when it cannot be written.
    Scores without a cached prediction still order the file list (live mode keeps its scores so)."""
    try:
        _made(folder)
        with _SCORES_LOCK:
            scores = read_scores(folder)
            scores.update({stem: round(float(score), 6) for stem, score in new.items()})
            atomic_write_text(folder / SCORES_FILE, json.dumps(scores, indent=1, sort_keys=True))
    except (OSError, SegStudioError):  # atomic writes raise SaveError
        return False
    return True


def scores_by_index(project: Project | None, model_path: Path | None) -> dict[int, float]:
    """Score of each entry index of ``project`` that has one for ``model_path``."""
    if project is None or model_path is None:
        return {}
    scores = read_scores(cache_folder(project.save_dir, model_path))
    return {i: scores[e.stem] for i, e in enumerate(project.entries) if e.stem in scores}


def uncertainty_order(count: int, scores: dict[int, float]) -> list[int]:
    """What to label next: scored indices first by decreasing score (ties in file order), then the rest."""
    scored = sorted(scores, key=lambda i: (-scores[i], i))
    return scored + [i for i in range(count) if i not in scores]
