"""Live mode in a window: the single owner of its cycles and of what is kept when it ends.

While live mode is on, cycles of :class:`~.live_session.LiveSession` run one after another on the
"live" pool: a short burst of training on the labelled images and the strokes on screen, then a
prediction of the image on screen, announced (``cycle_done``) so the review shows it like any
prediction, and the uncertainty of one other image, so the file list follows the live model. A
stroke in progress (``busy``) stops a burst at once: painting always has the CPU; so does opening
another image (its overlay comes in the next cycle, from the instant learner, within a second). Live mode does
not start while a training run is going (it asks the training controller, which owns runs).

"Update model now" (:meth:`LiveController.update_once`) is live mode for a bounded burst: it
starts from the active model (else where live mode starts), runs :data:`UPDATE_CYCLES` cycles of the
deep model (the overlay follows, as in live mode) and ends by itself, keeping the model as below.

When it ends its model is written on the worker as an ordinary model folder ``models/live-<date>``
and made the active model (not when the window is closing, nor when another folder was opened
meanwhile); a failure is an event (``not_kept``) the window turns into a dialog. Nothing waits:
:meth:`LiveController.stop` returns a future that completes once the model is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from psygnal import Signal

from segstudio.application.live.live_session import CycleResult, LiveLearner, LiveSession
from segstudio.application.live.shown_model import DEEP, INSTANT
from segstudio.application.pools import Pools, TimerFactory
from segstudio.application.refusal import Refusal
from segstudio.application.session.controller import ProjectSession
from segstudio.application.training.active_model import ActiveModel
from segstudio.application.training.controller import TrainingController
from segstudio.core.errors import SegStudioError
from segstudio.core.project import Project

PAUSE_MS = 30  # between cycles: lets the window's queued work run first
UPDATE_CYCLES = 8  # deep-model cycles of a one-shot update (8 steps each)
LIVE_SIZE: int | None = None  # the crop size: the trainer's own choice (model.training.live.SCRATCH_SIZE)
# (class names, init, save dir, size) -> LiveTrainer
MakeTrainer = Callable[[list[str], str, Path, int | None], LiveLearner]


@dataclass(frozen=True)
class LiveCycle:
    """What one cycle's answer tells the window: the live model's steps and loss, its prediction of
    the image on screen (model class indices; None when nothing was predicted), the uncertainty
    scores by entry index so far (None when this cycle scored nothing)."""

    steps: int
    loss: float
    seconds: float
    image_path: Path | None
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    scores: dict[int, float] | None
    shown: str = DEEP  # which learner the prediction is from (live_session: the instant one first)

    @property
    def text(self) -> str:
        if self.steps == 0 and self.shown == INSTANT:
            return f"Live training: the quick pixel classifier's overlay ({self.seconds:.1f} s); the deep model loads"
        loss = "—" if self.loss != self.loss else f"{self.loss:.3f}"
        source = "quick pixel classifier" if self.shown == INSTANT else "deep model"
        return (f"Live training: step {self.steps}, loss {loss} ({self.seconds:.1f} s a cycle); "
                f"the overlay is the {source}'s")


@dataclass(frozen=True)
class LiveKept:
    """Live mode's model once written: its folder (None: it never learnt), whether it became the
    active model, and what to say."""

    folder: Path | None
    activated: bool
    text: str


class LiveController:
    """Live training of one project session."""

    switched = Signal(bool)  # live mode is on / off (the toggle follows)
    cycle_done = Signal(object)  # LiveCycle
    failed = Signal(str)  # a cycle failed: live mode is off
    status = Signal(str)
    kept = Signal(object)  # LiveKept
    not_kept = Signal(str)  # the model could not be written (why)

    def __init__(self, session: ProjectSession, pools: Pools, timer: TimerFactory, training: TrainingController,
                 active: ActiveModel, busy: Callable[[], bool] = lambda: False,
                 make_trainer: MakeTrainer | None = None, size: int | None = LIVE_SIZE) -> None:
        """``busy``: True while a stroke is in progress (read on the worker: the burst stops)."""
        self._session = session
        self._pool = pools.pool("live")
        self._training = training
        self._active = active
        self._busy = busy
        self._make_trainer = make_trainer or make_live_trainer
        self._size = size
        self._pause = timer(PAUSE_MS, self._next)
        self.on = False
        self.learning: LiveSession | None = None  # the model learning, until it is handed to saving
        self.cycle: Future | None = None  # the latest cycle (running while not done)
        self.saving: Future | None = None  # the kept model being written, until its answer arrived
        self._activate = True  # whether the kept model becomes the active one
        self.updating: int | None = None  # deep-model cycles left of a one-shot update (None: live mode)
        self._ended: list[Future] = []  # stop() futures
        session.project_opened.connect(self._project_opened)

    # --- the toggle ------------------------------------------------------------------------------
    def start(self) -> Refusal | None:
        """Turn live mode on; why not (no image on screen, read-only, a training run going)."""
        if self.on:
            self.updating = None  # a one-shot update going on becomes live mode
            return None
        return self._begin(self._training.start_from, None)

    def update_once(self) -> Refusal | None:
        """Train the model a bounded burst now (from the active model when there is one), then keep
        it and make it active; why not. Nothing to do while live mode is on: it updates already."""
        if self.on:
            return None
        active = self._active.path
        return self._begin(str(active) if active is not None else self._training.start_from, UPDATE_CYCLES)

    def _begin(self, init: str, cycles: int | None) -> Refusal | None:
        session = self._session
        project = session.project
        if project is None or session.document is None:
            return Refusal("Open a folder and an image first.")
        if session.read_only:
            return Refusal(f"The project is {session.read_only}.", error=True)
        if self._training.running:
            return Refusal("A model is being trained: live training can start once the run has ended.")
        if self.learning is not None or self._cycling():
            return Refusal("The last live model is still being kept: try again in a moment.")
        names, save_dir, size = list(project.classes.names), Path(project.save_dir), self._size
        init = "auto" if init.startswith("@") else init  # "continue the active model" is a planned run's
        make = self._make_trainer
        self.learning = LiveSession(project, lambda: make(names, init, save_dir, size))
        self.on, self._activate, self.updating = True, True, cycles
        self.switched.emit(True)
        self.status.emit("Updating the model (the first cycle loads it)…" if cycles is not None
                         else "Live training: starting (the first cycle loads the model)…")
        self._next()
        return None

    def switch_off(self) -> None:
        """Turn live mode off: its model is kept (once the cycle on its way has answered)."""
        self._turn_off(activate=True)

    def _project_opened(self) -> None:
        if self.on:  # kept with the project it learnt, not made the new folder's active model
            self._turn_off(activate=True)

    def _turn_off(self, activate: bool) -> None:
        """Live mode ends; the model is kept now, or once the cycle on the worker has answered."""
        self._activate = self._activate and activate
        was_on, self.on, self.updating = self.on, False, None
        self._pause.stop()
        if not self._cycling():  # (a finished cycle's answer still on its way is dropped)
            self._finish()
        if was_on:
            self.switched.emit(False)

    # --- cycles ----------------------------------------------------------------------------------
    def _next(self) -> None:
        live = self.learning
        if not self.on or live is None:
            return
        session = self._session
        document, current = session.document, session.current
        rgb = document.image if document is not None else None
        label = document.label.copy() if document is not None else None
        path = current.entry.image_path if current is not None else None
        busy = self._busy

        def should_stop() -> bool:  # (read on the worker) a stroke began, or another image opened
            shown = session.current
            return not self.on or busy() or (shown.entry.image_path if shown is not None else None) != path

        self.cycle = self._pool.submit(live.cycle, path, rgb, label, should_stop,
                                       on_done=lambda future: self._answered(future, path, live))

    def _answered(self, future: Future, path: Path | None, live: LiveSession) -> None:
        if future is not self.cycle or live is not self.learning:
            return  # live mode was turned off (and its model kept) while this answer was on its way
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or error is not None:
            self._turn_off(activate=True)
            self.failed.emit(str(error) if error is not None else "the window is closing")
            return
        result = future.result()
        self.cycle_done.emit(self._cycle_of(result, path, live))
        if self.updating is not None and result.steps > 0:
            self.updating -= 1
            if self.updating <= 0:  # the one-shot update is done: its model is kept now
                self._turn_off(activate=True)
                return
        if self.on:
            self._pause.start()
        else:
            self._finish()

    def _cycle_of(self, result: CycleResult, path: Path | None, live: LiveSession) -> LiveCycle:
        trainer = live.trainer
        names = tuple(trainer.info.class_names) if trainer is not None else tuple(live.project.classes.names)
        steps = trainer.steps if trainer is not None else 0
        scores = live.scores_by_index() if result.scored is not None and self.on else None
        cycle = LiveCycle(steps, result.loss, result.seconds, path, result.labels, names, scores, result.shown)
        self.status.emit(cycle.text)
        return cycle

    # --- the end ---------------------------------------------------------------------------------
    def stop(self) -> Future:
        """The window is closing: live mode ends and its model is written (not made active); the
        future completes, on the owner's thread, once it is (at once when live mode is off)."""
        done: Future = Future()
        self._ended.append(done)
        self._turn_off(activate=False)
        self._release_if_ended()
        return done

    def _finish(self) -> None:
        """Write the live model on the worker (a few hundred ms of safetensors and scores)."""
        live, self.learning = self.learning, None
        if live is None:
            self._release_if_ended()
            return
        self.status.emit("Live training off: keeping the model…")
        name = f"live-{time.strftime('%Y%m%d-%H%M%S')}"  # models/<name>, made by the session
        activate = self._activate
        self.saving = self._pool.submit(live.save, name,  # with the live scores, in its cache
                                        on_done=lambda future: self._saved(live.project, future, activate))
        if self.saving.cancelled():  # the pools are shut
            self._saved(live.project, self.saving, activate)

    def _saved(self, project: Project, future: Future, activate: bool) -> None:
        """The live model is written (or not): say so, and make it the active model."""
        self.saving = None
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or error is not None:
            self.not_kept.emit(f"The live model was not saved: {error or 'the window is closing'}")
        else:
            self.kept.emit(self._keep(project, future.result(), activate))
        self._release_if_ended()

    def _keep(self, project: Project, saved: Path | None, activate: bool) -> LiveKept:
        if saved is None:
            return LiveKept(None, False, "Live training off (nothing learnt yet)")
        if project is not self._session.project:  # another folder was opened meanwhile
            return LiveKept(saved, False, f"Live training off: the model is kept as {saved.name} in {project.save_dir}")
        if not activate:
            return LiveKept(saved, False, f"Live training off: the model is kept as {saved.name}")
        try:
            self._active.set(saved)
        except (OSError, SegStudioError) as exc:
            return LiveKept(saved, False, f"Live training off: the model is kept as {saved.name}; "
                                          f"it was not made the active model: {exc}")
        return LiveKept(saved, True, f"Live training off: the model is kept as {saved.name} (now the active model)")

    def _cycling(self) -> bool:
        """True while a cycle runs on the worker."""
        return self.cycle is not None and not self.cycle.done()

    def _release_if_ended(self) -> None:
        if self.on or self.learning is not None or self._cycling() or self.saving is not None:
            return
        waiting, self._ended = self._ended, []
        for future in waiting:
            future.set_result(None)


def make_live_trainer(names: list[str], init: str, save_dir: Path, size: int | None) -> LiveLearner:
    """A LiveTrainer, made on the worker: torch loads there, not on the window's thread."""
    from segstudio.application.runtime import import_torch

    import_torch()
    import torch

    from segstudio.model.training.live import LiveTrainer

    torch.set_num_threads(1)  # the other core stays with the painting
    return LiveTrainer(names, init=init, size=size, save_dir=save_dir)
