"""Live mode's rules, without Qt: what the model learns from, and one learn-then-predict cycle.

The samples are every labelled mask of the project (read once, again when its file changes) plus
the mask on screen as it is now, strokes not yet saved included: that is what makes the model
follow the painting. A cycle trains a short burst and predicts the image on screen; the window
runs cycles one after another on a worker while live mode is on, and stops a burst at once when
a stroke begins (painting always wins the CPU).

Each cycle also scores one other image of the project, round robin (the live model's uncertainty,
cheap: at the crop size), so that the file list sorted by uncertainty follows the model as it
learns. The scores live in memory: the model changes every cycle and has no folder until live mode
ends (then :meth:`LiveSession.save` keeps them in the prediction cache of the saved model).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from segstudio.application.review.prediction_cache import cache_folder, store_scores
from segstudio.application.runtime import collections_deferred
from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX
from segstudio.core.paths import model_folder
from segstudio.core.project import ImageEntry, Project

STEPS_PER_CYCLE = 8
MAX_SAMPLES = 64  # images held for live training (the current one always among them)
CHANGE_SHARE = 0.02  # strokes that change this share of the image's labelled pixels lift the lr
CHANGE_PIXELS = 32   # ... and at least this many pixels (a click of the brush is not new labels)


Sample = tuple[np.ndarray, np.ndarray]  # (image, labels) the live model learns from


class ClassNames(Protocol):
    @property
    def class_names(self) -> Sequence[str]: ...


class LiveLearner(Protocol):
    """What a cycle asks of the live model: :class:`segstudio.model.training.live.LiveTrainer` (torch),
    made on the worker; tests give stand-ins."""

    @property
    def steps(self) -> int: ...  # optimiser steps so far

    @property
    def info(self) -> ClassNames: ...

    def train(self, samples: Sequence[Sample], steps: int, should_stop: Callable[[], bool] | None = None) -> float:
        """``steps`` steps on ``samples`` (fewer when told to stop); the mean loss."""

    def predict(self, rgb: np.ndarray) -> np.ndarray: ...

    def uncertainty(self, rgb: np.ndarray) -> float: ...

    def labels_changed(self) -> None: ...

    def save(self, folder: Path) -> Path: ...


def meaningful_change(before: np.ndarray | None, after: np.ndarray, unlabelled: int = IGNORE_INDEX) -> bool:
    """Whether the labels on screen changed enough since the last cycle to lift the learning rate.

    ``before`` is the same image's labels one cycle ago (None, or another shape: a new image, which
    is not new labels by itself). Erasing counts as a change too: the model must unlearn it.
    """
    if before is None or before.shape != after.shape:
        return False
    changed = int(np.count_nonzero(before != after))
    labelled = int(np.count_nonzero(after != unlabelled))
    return changed >= max(CHANGE_PIXELS, CHANGE_SHARE * labelled)


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did: the mean loss of its steps and the prediction of the image on screen
    (made on the worker, read on the owner's thread: never changed)."""

    loss: float
    steps: int
    labels: np.ndarray | None  # (H, W) model class indices, None when nothing to predict
    seconds: float
    scored: Path | None = None  # the other image whose uncertainty this cycle updated


class LiveSession:
    """Samples and cycles for one project; ``trainer`` is a :class:`segstudio.model.training.live.LiveTrainer`
    (made on the worker, where importing torch cannot freeze the window)."""

    def __init__(self, project: Project, make_trainer: Callable[[], LiveLearner]) -> None:
        self.project = project
        self._make_trainer = make_trainer
        self.trainer: LiveLearner | None = None  # a LiveTrainer once the first cycle made it
        self._cache: dict[Path, tuple[float, np.ndarray, np.ndarray]] = {}
        self._screen: tuple[Path | None, np.ndarray | None] = (None, None)  # labels of the last cycle
        self.scores: dict[Path, float] = {}  # image path: the live model's uncertainty on it
        self._turn = 0  # round robin over the entries for the scores

    def samples(self, current: Path | None, rgb: np.ndarray | None, label: np.ndarray | None) -> list[Sample]:
        """(image, labels) pairs: the labelled images of the project, the one on screen as painted now."""
        pairs: list[Sample] = []
        if rgb is not None and label is not None:
            pairs.append((rgb, label))
        for entry in self.project.labelled_entries():
            if len(pairs) >= MAX_SAMPLES:
                break
            if current is not None and entry.image_path == current:
                continue
            pair = self._read(entry)
            if pair is not None:
                pairs.append(pair)
        return pairs

    def _read(self, entry: ImageEntry) -> Sample | None:
        try:
            stamp = entry.mask_path.stat().st_mtime
            cached = self._cache.get(entry.mask_path)
            if cached is None or cached[0] != stamp:
                rgb = self.project.load_image(entry)
                label = self.project.load_mask(entry)
                if label is None:  # removed since it was listed: nothing to learn from it
                    return None
                self._cache[entry.mask_path] = cached = (stamp, rgb, label)
            return cached[1], cached[2]
        except (OSError, SegStudioError):
            return None  # a mask being written or a broken file: the next cycle tries again

    def cycle(self, current: Path | None, rgb: np.ndarray | None, label: np.ndarray | None,
              should_stop: Callable[[], bool]) -> CycleResult:
        """One burst of learning, then a prediction of ``rgb`` (on the worker)."""
        started = time.perf_counter()
        if self.trainer is None:
            with collections_deferred():
                self.trainer = self._make_trainer()
        trainer = self.trainer
        self._note_strokes(trainer, current, label)
        before = trainer.steps
        loss = trainer.train(self.samples(current, rgb, label), STEPS_PER_CYCLE, should_stop)
        labels = trainer.predict(rgb) if rgb is not None and not should_stop() else None
        scored = self._score_next(trainer, current) if not should_stop() else None
        return CycleResult(loss, trainer.steps - before, labels, time.perf_counter() - started, scored)

    def _score_next(self, trainer: LiveLearner, current: Path | None) -> Path | None:
        """Score the uncertainty of the next image after the last one scored (not the one on screen)."""
        entries = [e for e in self.project.entries if e.image_path != current]
        if not entries:
            return None
        entry = entries[self._turn % len(entries)]
        self._turn += 1
        try:
            rgb = self.project.load_image(entry)
        except (OSError, SegStudioError):
            return None  # unreadable: its turn comes again
        self.scores[entry.image_path] = trainer.uncertainty(rgb)
        return entry.image_path

    def scores_by_index(self) -> dict[int, float]:
        """The live scores by entry index: what ``prediction_cache.uncertainty_order`` sorts."""
        return {i: self.scores[e.image_path] for i, e in enumerate(self.project.entries)
                if e.image_path in self.scores}

    def _note_strokes(self, trainer: LiveLearner, current: Path | None, label: np.ndarray | None) -> None:
        """Tell the trainer when the image on screen got new strokes since the last cycle."""
        path, before = self._screen
        if label is not None and path == current and meaningful_change(before, label):
            trainer.labels_changed()
        self._screen = (current, label)

    def save(self, name: str) -> Path | None:
        """The model so far as the ordinary model folder ``<save_dir>/models/<name>``; None when it
        never trained. The folder is made here, never through a link (``core.paths.model_folder``):
        a received project's ``models`` may point at the user's own models elsewhere."""
        if self.trainer is None or self.trainer.steps == 0:
            return None
        saved = self.trainer.save(model_folder(self.project.save_dir, name, create=True))
        if self.scores:  # the file list keeps its order when the saved model becomes the active one
            store_scores(cache_folder(self.project.save_dir, saved),
                         {e.stem: self.scores[e.image_path] for e in self.project.entries
                          if e.image_path in self.scores})
        return saved
