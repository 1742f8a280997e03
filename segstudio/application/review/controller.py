"""Reviewing predictions in a window: the single owner of the prediction of the image on screen.

It predicts the image the session shows with the active model (:class:`PredictionService`, in the
background, cached), maps the model's classes onto the project's (``review_rules``, with the
project's aliases), computes the metrics against the painted mask (the whole image once on a pool,
then each edited rectangle from the edit feed: ``region_metrics``),
accepts a prediction into the mask as one undo step of the session's document (refused in a
read-only window), predicts every unlabelled image into the cache (:class:`BatchPrediction`) and
gives the uncertainty scores the file list shows and sorts by (the prediction cache's, or live
mode's while it runs). A read-only window never writes the prediction cache.

Plain Python (psygnal events, the pools it is given); the window's review dock, prediction layer
and file list only show what its events carry.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from psygnal import Signal

from segstudio.application.live.scribbles import unpainted_value
from segstudio.application.pools import Pools, when_all
from segstudio.application.refusal import Refusal
from segstudio.application.review.model_runner import PredictionResult
from segstudio.application.review.prediction_cache import scores_by_index
from segstudio.application.review.prediction_service import BatchPrediction, PredictionService
from segstudio.application.review.region_metrics import RegionMetrics
from segstudio.application.review.review_metrics import summary_text
from segstudio.application.review.review_rules import (
    AcceptMode,
    accepted_label,
    accepted_what,
    prediction_in_project,
    project_aliases,
)
from segstudio.application.session.controller import ProjectSession
from segstudio.application.session.edit_feed import EditFeed
from segstudio.application.training.active_model import ActiveModel
from segstudio.core.geometry import Rect
from segstudio.core.metrics import SegMetrics

NO_PREDICTION = "No prediction for this image"
NO_PAINTING = "No painted mask to compare with yet: accept the prediction or paint, then review"


@dataclass(frozen=True)
class ShownPrediction:
    """The prediction of the image on screen in the project's classes (255: a class the project
    does not know, drawn as nothing and never accepted)."""

    image_path: Path
    labels: np.ndarray
    source: str  # the model's name, or "live model"


@dataclass(frozen=True)
class ImageMetrics:
    """The review of this image: per-class metrics (None: nothing to compare) and the summary line."""

    metrics: SegMetrics | None
    text: str


@dataclass(frozen=True)
class BatchOutcome:
    """How a predict-all ended: images predicted, the last problem ("" when none), what to say."""

    done: int
    error: str

    @property
    def text(self) -> str:
        message = f"{self.done} image(s) predicted; the file list shows how unsure the model is"
        return message + (f" — last problem: {self.error}" if self.error else "")


class ReviewController:
    """Predictions, metrics, accept and predict-all for one project session."""

    prediction_changed = Signal(object)  # ShownPrediction | None
    status = Signal(str)  # what the prediction is doing ("Predicting…", its uncertainty, a failure)
    metrics_changed = Signal(object)  # ImageMetrics
    mask_edited = Signal(object)  # Rect: the painted mask changed there (an error map of it is stale)
    scores_changed = Signal(object)  # dict[int, float]: uncertainty by entry index, for the file list
    batch_progress = Signal(int, int, str)  # images done, total, image name ("" at the end)
    batch_finished = Signal(object)  # BatchOutcome

    def __init__(self, session: ProjectSession, edits: EditFeed, pools: Pools, active: ActiveModel) -> None:
        self._session = session
        self._active = active
        self._pools = pools
        self.service = PredictionService(pools.pool("predict"))
        self.service.ready.connect(self._on_ready)
        self.service.failed.connect(lambda message: self.status.emit(f"Prediction failed: {message}"))
        self._metrics_pool = pools.pool("metrics")
        self._metrics_token = 0
        self._region: RegionMetrics | None = None  # the metrics of the prediction on screen, by rectangles
        self._uncounted: Rect | None = None  # edited while the whole image was being counted
        self.shown: ShownPrediction | None = None
        self.batch: BatchPrediction | None = None
        self._batch_done: list[Future] = []
        self.live_scores: dict[int, float] | None = None  # live mode's uncertainty, shown instead
        edits.settled.connect(self._mask_settled)
        session.project_opened.connect(self._project_opened)
        session.loading_started.connect(lambda index: self.clear())
        session.image_loaded.connect(lambda loaded: self._image_loaded())
        session.entry_changed.connect(lambda index: self.refresh_scores())
        active.changed.connect(lambda path: self.model_changed())

    # --- the prediction of the image on screen ---------------------------------------------------
    @property
    def labels(self) -> np.ndarray | None:
        return self.shown.labels if self.shown is not None else None

    @property
    def available(self) -> bool:
        """True when the image on screen has a prediction of its size."""
        document = self._session.document
        return self.shown is not None and document is not None and document.label.shape == self.shown.labels.shape

    def _project_opened(self) -> None:
        self.service.forget()
        self.live_scores = None  # another project's live mode is over
        self.clear()
        self.refresh_scores()

    def _image_loaded(self) -> None:
        self.request()

    def model_changed(self) -> None:
        """The active model changed (or what its classes mean): predict the image on screen again."""
        self.service.forget()
        self.refresh_scores()
        self.request()

    def clear(self) -> None:
        """No prediction on screen (another image is on its way); a pending one is dropped."""
        self.service.cancel()
        self.shown = None
        self.prediction_changed.emit(None)
        self.update_metrics()

    def request(self) -> None:
        """Predict the image on screen with the active model (in the background; cached)."""
        entry, model, project = self._session.entry, self._active.path, self._session.project
        self.clear()
        if entry is None or model is None or project is None:
            self.status.emit("No active model: train one (Training dock) or load a checkpoint (Models dock)"
                             if model is None else "")
            return
        self.status.emit(f"Predicting {entry.image_path.name} with {model.name}…")
        self.service.request(Path(project.save_dir), model, entry.image_path, store=not self._session.read_only)

    def _on_ready(self, result: PredictionResult) -> None:
        if self._show(result.image_path, result.labels, result.class_names, result.model_path.name):
            self.status.emit(f"{result.model_path.name}: uncertainty {result.score:.2f} (0 = sure, 1 = guessing)")
            self.refresh_scores()

    def show_live(self, image_path: Path, labels: np.ndarray, class_names: list[str]) -> None:
        """Show live mode's prediction of the image on screen like any prediction."""
        self._show(image_path, labels, class_names, "live model")

    def _show(self, image_path: Path, labels: np.ndarray, class_names: list[str], source: str) -> bool:
        """Map the model's classes onto the project's and show it, if it is the image on screen's."""
        entry, project = self._session.entry, self._session.project
        if entry is None or project is None or entry.image_path != image_path:
            return False
        mapped = prediction_in_project(labels, list(class_names), list(project.classes.names),
                                       project_aliases(project))
        self.shown = ShownPrediction(image_path, mapped, source)
        self.prediction_changed.emit(self.shown)
        self.update_metrics()
        return True

    # --- metrics ---------------------------------------------------------------------------------
    def _mask_settled(self, rect: Rect) -> None:
        """The painted mask changed under ``rect`` (the edit feed's throttled union): the error map
        and the metrics follow for that rectangle only."""
        self.mask_edited.emit(rect)
        document = self._session.document
        if self._region is not None and document is not None:
            self._region.update(document.label, rect)
            self._emit_metrics()
        elif self._metrics_token and self.available:  # counted now: this rectangle is updated after
            self._uncounted = rect.union(self._uncounted)

    def update_metrics(self) -> None:
        """Count the metrics of this image against its painted mask again, whole (a copy taken
        now, the arithmetic on the "metrics" pool; only the latest answer is used); edits then
        update them rectangle by rectangle."""
        self._metrics_token += 1
        self._region, self._uncounted = None, None
        document, project = self._session.document, self._session.project
        if not self.available or document is None or project is None:
            self.metrics_changed.emit(ImageMetrics(None, NO_PREDICTION))
            return
        assert self.shown is not None
        token = self._metrics_token
        self._metrics_pool.submit(RegionMetrics, document.label.copy(), self.shown.labels, len(project.classes),
                                  on_done=lambda future: self._counted(token, future))

    def _counted(self, token: int, future: Future) -> None:
        document = self._session.document
        if token != self._metrics_token or future.cancelled() or future.exception() is not None or document is None:
            return
        self._region = future.result()
        if self._uncounted is not None:
            self._region.update(document.label, self._uncounted)
            self._uncounted = None
        self._emit_metrics()

    def _emit_metrics(self) -> None:
        region = self._region
        if region is None:
            return
        if not region.has_painting:
            self.metrics_changed.emit(ImageMetrics(None, NO_PAINTING))
            return
        metrics = region.metrics()
        self.metrics_changed.emit(ImageMetrics(metrics, summary_text(metrics.miou, metrics.pixel_accuracy)))

    # --- accept ----------------------------------------------------------------------------------
    def accept(self, mode: AcceptMode, class_index: int = 1) -> str:
        """Copy the prediction into the mask as one undo step (``review_rules.accepted_label``);
        what to tell the user, whether it was accepted or refused."""
        document, project = self._session.document, self._session.project
        if not self.available or document is None or project is None or self.shown is None:
            return "No prediction for this image to accept"
        if self._session.read_only:
            return f"The project is {self._session.read_only}: nothing is accepted in this window"
        new = accepted_label(document.label, self.shown.labels, mode, class_index, unpainted_value(project))
        if document.set_label(new) is None:
            return "The prediction changes nothing here"
        return f"Prediction accepted ({accepted_what(mode, project.classes.name_of(class_index))}); Ctrl+Z undoes it"

    # --- predict all, uncertainty ----------------------------------------------------------------
    def predict_all(self) -> Refusal | None:
        """Predict every unlabelled image into the cache (progress and end as events); why not."""
        project, model = self._session.project, self._active.path
        if self._session.read_only:  # its only product is the prediction cache, on disk
            return Refusal(f"The project is {self._session.read_only}.", error=True)
        if project is None:
            return Refusal("Open a folder of images first.")
        if model is None:
            return Refusal("Choose an active model first (Models dock).")
        if self.batch is not None:
            return Refusal("Every unlabelled image is being predicted already.")
        paths = [e.image_path for e in project.entries if not project.is_labelled(e)]
        if not paths:
            return Refusal("Every image has a mask already.")
        batch = BatchPrediction(self.service.runner, Path(project.save_dir), model, paths,
                                self._pools.pool("predict-all"))
        self.batch = batch
        batch.progress.connect(lambda done, total, name: self.batch_progress.emit(done, total, name))
        batch.finished.connect(lambda done, error: self._batch_ended(batch, done, error))
        batch.start()
        return None

    def cancel_batch(self) -> None:
        """Stop predict-all after the image being predicted."""
        if self.batch is not None:
            self.batch.cancel()

    def _batch_ended(self, batch: BatchPrediction, done: int, error: str) -> None:
        if batch is self.batch:
            self.batch = None
        self.refresh_scores()
        self.batch_finished.emit(BatchOutcome(done, error))
        waiting, self._batch_done = self._batch_done, []
        for future in waiting:
            future.set_result(None)

    def set_live_scores(self, scores: dict[int, float] | None) -> None:
        """Show (and sort by) live mode's scores, by entry index; None: the active model's again."""
        self.live_scores = scores
        self.refresh_scores()

    def scores(self) -> dict[int, float]:
        """Uncertainty by entry index: live mode's while it runs, else the active model's cache."""
        if self.live_scores is not None:
            return dict(self.live_scores)
        return scores_by_index(self._session.project, self._active.path)

    def refresh_scores(self) -> None:
        if self._session.project is not None:
            self.scores_changed.emit(self.scores())

    # --- closing ---------------------------------------------------------------------------------
    def stop(self) -> Future:
        """The window is closing: drop pending answers, cancel predict-all; the future completes
        (on the owner's thread) once the batch has ended (at once when none runs)."""
        self.service.cancel()
        self._metrics_token += 1
        futures: list[Future] = []
        if self.batch is not None:
            future: Future = Future()
            self._batch_done.append(future)
            futures.append(future)
            self.batch.cancel()
        return when_all(futures)
