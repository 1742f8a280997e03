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

Two learners run side by side: the :class:`~.instant.InstantLearner` (numpy, a pixel classifier over
multi-scale filters) overlays the image within a cycle of the first strokes of two classes, before
torch has loaded, and the deep model (the trainer) trains beside it. Both learn from the strokes
minus a share kept aside, and :class:`~.shown_model.ShownModel` shows the deep model's prediction,
and takes the file list's uncertainty from it, once it predicts those aside pixels better.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from segstudio.application.live.instant import FIRST_STEPS, InstantLearner, image_key
from segstudio.application.live.instant import STEPS_PER_CYCLE as STEPS_PER_CYCLE_INSTANT
from segstudio.application.live.pseudo_labels import PseudoLabels
from segstudio.application.live.shown_model import DEEP, INSTANT, ShownModel, split_aside
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
PSEUDO_LABELS = True  # the instant learner's confident labels teach the deep model (measured: see pseudo_labels)
INSTANT_SETTLED = 600  # instant learner steps after which it trains only when the labels change


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
    shown: str = DEEP  # the learner whose prediction ``labels`` is (shown_model.INSTANT or DEEP)


class LiveSession:
    """Samples and cycles for one project; ``trainer`` is a :class:`segstudio.model.training.live.LiveTrainer`
    (made on the worker, where importing torch cannot freeze the window)."""

    def __init__(self, project: Project, make_trainer: Callable[[], LiveLearner],
                 num_classes: int | None = None, pseudo: bool = PSEUDO_LABELS) -> None:
        self.project = project
        self._make_trainer = make_trainer
        self.trainer: LiveLearner | None = None  # a LiveTrainer once the first cycle made it
        classes = num_classes if num_classes is not None else len(project.classes.names)
        self.instant = InstantLearner(classes)
        self.rule = ShownModel(classes)
        self._instant_since = 0  # instant learner steps since its samples last changed
        self._overlaid = False  # whether the instant learner's first overlay was answered
        self._judged = 0  # round robin over the other labelled images for the rule
        self._instant_predictions: dict[tuple, tuple[int, np.ndarray]] = {}  # key: (instant steps, labels)
        self._on_screen: Path | None = None  # the image the last cycle predicted
        self.pseudo = PseudoLabels() if pseudo else None  # the instant learner teaching the deep model
        self._cache: dict[Path, tuple[float, np.ndarray, np.ndarray]] = {}
        self._screen: tuple[Path | None, np.ndarray | None] = (None, None)  # labels of the last cycle
        self.scores: dict[Path, float] = {}  # image path: the live model's uncertainty on it
        self._turn = 0  # round robin over the entries for the scores
        self._scored_at: dict[Path, tuple[str, int]] = {}  # (learner, its steps) each score was made with

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
        """Refine the instant learner, one burst of the deep model, then a prediction of ``rgb`` by
        the learner shown (on the worker). The first cycle with strokes of two classes answers with
        the instant learner's prediction before the deep model is even made, and so does the first
        cycle on another image while the instant learner is shown (its overlay within a second)."""
        started = time.perf_counter()
        full = self.samples(current, rgb, label)
        pairs = [(image, split_aside(labels)[0]) for image, labels in full]
        moved, self._on_screen = current != self._on_screen, current
        instant = self._instant_cycle(rgb, pairs, should_stop, learn=not (moved and self._overlaid))
        if instant is not None and (not self._overlaid or moved and self.rule.shown == INSTANT):
            # the first overlay, or another image opened: shown now, the deep model's burst waits a cycle
            self._overlaid = True
            return CycleResult(float("nan"), 0, instant, time.perf_counter() - started, None, INSTANT)
        if self.trainer is None:
            with collections_deferred():
                self.trainer = self._make_trainer()
        trainer = self.trainer
        self._note_strokes(trainer, current, label)
        before = trainer.steps
        if self.pseudo is not None and instant is not None and not should_stop():
            self.pseudo.refresh(self.instant, pairs)
        taught = self.pseudo.merged(pairs) if self.pseudo is not None else pairs
        loss = trainer.train(taught, STEPS_PER_CYCLE, should_stop)
        deep = trainer.predict(rgb) if rgb is not None and not should_stop() else None
        shown = self._judge(current, rgb, label, instant, deep)
        if instant is not None and not should_stop():
            shown = self._judge_another(trainer, full[1:] if rgb is not None else full)
        labels = instant if shown == INSTANT and instant is not None else deep
        scored = self._score_next(trainer, current) if not should_stop() else None
        return CycleResult(loss, trainer.steps - before, labels, time.perf_counter() - started, scored,
                           shown if labels is instant else DEEP)

    def _instant_cycle(self, rgb: np.ndarray | None, pairs: Sequence[Sample],
                       should_stop: Callable[[], bool], learn: bool = True) -> np.ndarray | None:
        """Give the instant learner the strokes as they are now, train it, predict ``rgb``; None while
        fewer than two classes are painted. Until its first overlay it learns from the image on
        screen alone when that has two classes (the others are featured from the next cycle on: the
        first overlay does not wait for the whole project) and takes fewer steps; on another image
        it predicts first (``learn`` False) and learns in the next cycle."""
        before = self.instant.steps
        first = not self._overlaid and rgb is not None and len(pairs) > 1
        classes, changed = self.instant.update(pairs[:1] if first else pairs)
        if first and not self.instant.ready(classes):
            classes, changed = self.instant.update(pairs)
        if not self.instant.ready(classes):
            return None
        self._instant_since = 0 if changed else self._instant_since
        if learn and self._instant_since < INSTANT_SETTLED and not should_stop():
            self.instant.train(FIRST_STEPS if not self._overlaid else STEPS_PER_CYCLE_INSTANT)
            self._instant_since += self.instant.steps - before
        if rgb is None or should_stop() or self.instant.steps == 0:
            return None
        return self.instant.predict(rgb)

    def _judge(self, current: Path | None, rgb: np.ndarray | None, label: np.ndarray | None,
               instant: np.ndarray | None, deep: np.ndarray | None) -> str:
        """Score both predictions of the image on screen on its aside strokes; which to show."""
        if instant is None or deep is None or label is None or rgb is None:
            return self.rule.shown
        return self.rule.record(current if current is not None else id(rgb), split_aside(label)[1], instant, deep)

    def _judge_another(self, trainer: LiveLearner, others: Sequence[Sample]) -> str:
        """Score both learners on the aside strokes of one other labelled image, round robin (the
        rule then judges on more than the image on screen); which to show."""
        if not others:
            return self.rule.shown
        image, labels = others[self._judged % len(others)]
        self._judged += 1
        key = image_key(image)
        held = self._instant_predictions.get(key)
        if held is None or held[0] != self.instant.steps:  # a settled instant learner predicts it once
            held = self._instant_predictions[key] = (self.instant.steps, self.instant.predict(image))
        if len(self._instant_predictions) > MAX_SAMPLES:
            self._instant_predictions.pop(next(iter(self._instant_predictions)))
        return self.rule.record(key, split_aside(labels)[1], held[1], trainer.predict(image))

    def predict(self, rgb: np.ndarray) -> np.ndarray | None:
        """The prediction of ``rgb`` by the learner shown (None before any learnt)."""
        if self.rule.shown == DEEP and self.trainer is not None or self.instant.steps == 0:
            return self.trainer.predict(rgb) if self.trainer is not None else None
        return self.instant.predict(rgb)

    def _score_next(self, trainer: LiveLearner | None, current: Path | None) -> Path | None:
        """Score the uncertainty of the next image after the last one scored (not the one on screen),
        by the learner shown (the instant learner until the trainer exists). An image already scored
        by that learner as it is now is passed over (a settled instant learner scores nothing more:
        the deep model gets the time)."""
        entries = [e for e in self.project.entries if e.image_path != current]
        use_instant = trainer is None or self.rule.shown == INSTANT and self.instant.steps > 0
        learner: LiveLearner | InstantLearner | None = self.instant if use_instant else trainer
        if learner is None:
            return None
        stamp = (INSTANT if use_instant else DEEP, learner.steps)
        for _ in range(len(entries)):
            entry = entries[self._turn % len(entries)]
            self._turn += 1
            if self._scored_at.get(entry.image_path) == stamp:
                continue
            try:
                rgb = self.project.load_image(entry)
            except (OSError, SegStudioError):
                return None  # unreadable: its turn comes again
            self.scores[entry.image_path] = learner.uncertainty(rgb)
            self._scored_at[entry.image_path] = stamp
            return entry.image_path
        return None

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
