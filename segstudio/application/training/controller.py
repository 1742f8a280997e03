"""Training from a window: the single owner of a run, from the click on Train to the active model.

A request is refused with a reason (no project, a read-only window, a setting that is not valid)
or accepted; then the queued saves are written first (``session.flush(then)``: the open image's
latest strokes are part of the run), the labelled masks are frozen (:func:`take_snapshot`: painting
goes on meanwhile), the run goes on the "train" pool (:class:`TrainRun`) and reports its progress
and validations as events, and when it ends this controller decides which model is active: the
new one unless both were validated and it is worse (``model_registry.replaces_active``, the one
rule); then the active one stays for now and the outcome carries the question for the user
(:class:`~.active_choice.ActiveChoice`), which :meth:`TrainingController.answer` applies. The
outcome (``run_outcome``) says what was kept, also after a Stop.

Plain Python (psygnal events, pools it is given): the window hands it pools answering on its GUI
thread, tests :class:`~segstudio.application.pools.QueuedPools`. Nothing waits: Stop is a request,
"stopped" an event, and :meth:`TrainingController.stop` returns a future that completes on the
owner's thread once the run has ended (the window's close follows it instead of waiting).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal

from segstudio.application.pools import Pools
from segstudio.application.refusal import Refusal
from segstudio.application.session.controller import ProjectSession
from segstudio.application.training import run_outcome
from segstudio.application.training.active_choice import ActiveChoice, worse_run
from segstudio.application.training.active_model import ActiveModel
from segstudio.application.training.model_registry import record_for, replaces_active
from segstudio.application.training.plan_preview import PlanPreview
from segstudio.application.training.run_config import build_config
from segstudio.application.training.run_outcome import RunOutcome, RunStarted
from segstudio.application.training.train_run import TrainRun
from segstudio.application.training.train_snapshot import SnapshotProject, remove_stale_snapshots, take_snapshot
from segstudio.core.errors import SegStudioError
from segstudio.core.project import Project
from segstudio.model.training.types import EpochSummary, TrainConfig, TrainProgress, TrainResult


@dataclass
class _Run:
    """The run going on (owner's thread only)."""

    job: TrainRun
    project: Project
    started: float
    last: TrainProgress | None = None


class TrainingController:
    """One training run at a time for one project session."""

    starting = Signal(str)  # accepted: the saves are written first (the message to show meanwhile)
    not_started = Signal(str)  # accepted, but the run could not start (why)
    started = Signal(object)  # RunStarted
    progress = Signal(object)  # TrainProgress
    epoch = Signal(object)  # EpochSummary: one validation point
    stopping = Signal()  # Stop was asked: the run ends after the current batch
    finished = Signal(object)  # RunOutcome: finished, stopped or failed, and what became active

    def __init__(self, session: ProjectSession, pools: Pools, active: ActiveModel) -> None:
        self._session = session
        self._active = active
        self._pool = pools.pool("train")  # one run at a time
        self._run: _Run | None = None
        self._starting: Project | None = None  # accepted, the saves being written
        self._cancelled = False  # Stop came while the saves were being written
        self._waiting: list[Future] = []  # stop() futures, completed once the run has ended
        self.start_from = "auto"  # the form's starting point (live mode starts from it too)
        self.last_outcome: RunOutcome | None = None
        self._last_model: Path | None = None  # the folder of the run that ended last
        self.question: ActiveChoice | None = None  # a worse run's question, until it is answered
        self.plan = PlanPreview(session, pools)  # what the form's run will do here, before the click
        session.project_opened.connect(self._project_opened)

    # --- state -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from an accepted request (the saves are written first) until the run has ended."""
        return self._run is not None or self._starting is not None

    @property
    def snapshot(self) -> SnapshotProject | None:
        """The frozen masks the run going on learns from."""
        return self._run.job.project if self._run is not None else None

    @property
    def save_dir(self) -> Path | None:
        project = self._session.project
        return Path(project.save_dir) if project is not None else None

    def ran(self, folder: Path | None) -> bool:
        """True when ``folder`` is the model of the run that ended last (the dock shows that run's
        own curves and summary, not its history.json read back; also while it is made active)."""
        if folder is None or self._last_model is None:
            return False
        return Path(folder).resolve() == Path(self._last_model).resolve()

    def _project_opened(self) -> None:
        """Snapshots a crashed run left behind are removed, unless a run of this window is going or
        another window works on the project (read-only, or others edit images: their run may be
        using them)."""
        project = self._session.project
        self.question = None  # it was about the other folder's models
        if (project is not None and not self.running and not self._session.read_only
                and not self._session.claimed_by_others()):
            remove_stale_snapshots(project.save_dir)

    # --- request ---------------------------------------------------------------------------------
    def start(self, values: Mapping[str, Any], name: str = "") -> Refusal | None:
        """Ask for a run of ``values`` (the form: ``TrainConfig`` fields, ``init`` may be
        "@active"); why it is refused, or None once it is accepted (``starting``)."""
        project = self._session.project
        if self.running:
            return Refusal("A run is already going.", error=True)
        self.question = None  # a new run: the last one's question is moot
        if project is None:
            return Refusal("Open a folder of images first.", error=True)
        if self._session.read_only:  # a run writes into models/ and the project settings
            return Refusal(f"The project is {self._session.read_only}; train from that window.", error=True)
        try:
            config = self.config(values, name)
        except ValueError as exc:
            return Refusal(str(exc), error=True)
        too_short = self.plan.refusal(values)  # a budget too short to learn anything (run_plan)
        if too_short:
            return Refusal(too_short, error=True)
        self._starting, self._cancelled = project, False
        if self._session.dirty:
            self._session.save_async()  # the open image's latest strokes are part of the run
        self.starting.emit("Writing the last strokes before the run…")
        self._session.flush(lambda: self._begin(project, config))  # the snapshot follows the saves
        return None

    def config(self, values: Mapping[str, Any], name: str = "") -> TrainConfig:
        """The run ``values`` ask for ("@active": the active model's); ValueError with a readable
        message for a value that cannot make one."""
        return build_config(values, name, self._active.path)

    def _begin(self, project: Project, config: TrainConfig) -> None:
        """The queued saves have answered: snapshot the masks on disk and start the run."""
        self._starting = None
        if self._cancelled:
            return self._not_started("Stopped before the run started.")
        if project is not self._session.project:
            return self._not_started("Another folder was opened: the run did not start.")
        try:
            snapshot = take_snapshot(project)
        except OSError as exc:
            return self._not_started(f"Cannot prepare the training data in {project.save_dir}: {exc}")
        run = _Run(TrainRun(snapshot, config), project, time.monotonic())
        self._run = run
        self.started.emit(RunStarted(config.name, len(snapshot.entries), tuple(project.classes.names)))
        future = self._pool.submit(run.job.execute, lambda report: self._pool.call_soon(self._report, run, report),
                                   lambda summary: self._pool.call_soon(self._validated, run, summary),
                                   on_done=lambda done: self._ended(run, done))
        if future.cancelled():  # the pools are shut: the window is closing
            self._ended(run, future)

    def _not_started(self, reason: str) -> None:
        self.not_started.emit(reason)
        self._release_waiting()

    # --- reports (owner's thread) ----------------------------------------------------------------
    def _report(self, run: _Run, report: TrainProgress) -> None:
        if run is self._run:
            run.last = report
            self.progress.emit(report)

    def _validated(self, run: _Run, summary: EpochSummary) -> None:
        if run is self._run:
            self.epoch.emit(summary)

    # --- stop ------------------------------------------------------------------------------------
    def stop(self) -> Future:
        """Ask the run to end after the current batch (its model and state are kept); the future
        completes, on the owner's thread, once it has ended (at once when none is going)."""
        done: Future = Future()
        if not self.running:
            done.set_result(None)
            return done
        self._waiting.append(done)
        if self._run is not None:
            if not self._run.job.stop_requested:
                self._run.job.request_stop()
                self.stopping.emit()
        else:
            self._cancelled = True  # the saves are still being written: the run never starts
        return done

    def _release_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            future.set_result(None)

    # --- the end ---------------------------------------------------------------------------------
    def _ended(self, run: _Run, future: Future) -> None:
        """The run has ended: decide the active model, then say how it ended (in that order, so a
        view that follows the active model's history is then given the run's own summary)."""
        self._run = None
        self.plan.invalidate()  # its measured pace is the next plan's figure
        result = _result_of(future)
        self._last_model = result.model_dir
        activated, why = self._decide(run.project, result)
        save_dir = Path(run.project.save_dir)
        self.last_outcome = run_outcome.outcome(result, time.monotonic() - run.started, save_dir, run.last,
                                                activated, why, self.question)
        self.finished.emit(self.last_outcome)
        self._release_waiting()

    def _decide(self, project: Project, result: TrainResult) -> tuple[Path | None, str]:
        """Make the new model the active one when it is not worse than it (``replaces_active``):
        (the model made active or None, why the active one stays)."""
        folder = result.model_dir
        if folder is None:
            return None, ""
        if project is not self._session.project:  # another folder was opened during the run
            return None, f"The model is kept in {folder}; the folder open now keeps its own active model."
        inside = Path(folder).resolve().is_relative_to(Path(project.save_dir).resolve())
        new = record_for(Path(folder)) if inside else None
        current = self._active.path
        active = record_for(current) if current is not None else None
        replace, why = replaces_active(new, active)
        if not replace:
            self.question = worse_run(new, active)  # the user decides (answer)
            return None, why if new is not None and self.question is None else ""
        try:
            self._active.set(Path(folder))
        except (OSError, SegStudioError) as exc:
            return None, f"{Path(folder).name} was not made the active model: {exc}"
        return Path(folder), ""


    def answer(self, use_new: bool) -> str:
        """Apply the user's answer to the worse run's question: make the new model active
        (``use_new``) or keep the active one; what to say. Refused (the text says why) when the
        question is no longer open or the model cannot be made active."""
        question, self.question = self.question, None
        if question is None:
            return "There is no open question about the active model."
        if use_new:
            try:
                self._active.set(Path(question.new.path))
            except (OSError, SegStudioError) as exc:
                return f"{question.new.name} was not made the active model: {exc}"
        return question.answered(use_new)


def _result_of(future: Future) -> TrainResult:
    """The run's result; a job that ended without one (cancelled when the window closed, or a bug)
    is reported as a result too, exactly once."""
    if future.cancelled():
        return TrainResult("stopped", "the run was cancelled before it started", None, math.nan)
    error = future.exception()
    if error is not None:
        return TrainResult("failed", f"training failed: {type(error).__name__}: {error}", None, math.nan)
    return future.result()
