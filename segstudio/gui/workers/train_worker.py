"""A training run on the window's background pool: reports and the result arrive on the GUI thread.

:class:`~segstudio.application.training.train_run.TrainRun` holds the run's rules (no Qt); this module only
puts it on a :class:`BackgroundPool` job and hands its ``on_progress`` / ``on_epoch`` reports to the
GUI thread with ``call_soon``. The result comes last (same queue), exactly once: a job that ended
without one (cancelled when the window closed, or a bug) is reported as a "failed" result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future

from segstudio.application.training.train_run import TrainRun
from segstudio.gui.workers.background import BackgroundPool
from segstudio.model.train_types import TrainResult


def start_training(pool: BackgroundPool, run: TrainRun, on_progress: Callable, on_epoch: Callable,
                   on_finished: Callable[[TrainResult], None]) -> Future:
    """Run ``run`` on ``pool``; the three callbacks are called on the GUI thread."""

    def progress(report) -> None:  # worker thread
        pool.call_soon(on_progress, report)

    def epoch(summary) -> None:  # worker thread
        pool.call_soon(on_epoch, summary)

    def done(future: Future) -> None:  # GUI thread
        on_finished(_result_of(future))

    return pool.submit(run.execute, progress, epoch, on_done=done)


def _result_of(future: Future) -> TrainResult:
    if future.cancelled():
        return TrainResult("stopped", "the run was cancelled before it started", None, math.nan)
    error = future.exception()
    if error is not None:
        return TrainResult("failed", f"training failed: {type(error).__name__}: {error}", None, math.nan)
    return future.result()
