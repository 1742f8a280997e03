"""One training run started from the window, without Qt: the rules of a run inside the GUI process.

The window starts a run on a background job and shows what it reports; what a run in the window
must do lives here so that it is tested without a screen: no DataLoader worker processes (a fork of
a process holding Qt is unsafe, and the data of a window's run is small), on a CPU all cores but one
(the window keeps one for itself), every failure turned into a "failed" :class:`TrainResult` (the
window never sees an exception), and the snapshot of the masks removed at the end whatever happened.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import replace

from segstudio.application.training.train_snapshot import SnapshotProject
from segstudio.core.errors import SegStudioError
from segstudio.model.training.types import EpochSummary, TrainConfig, TrainProgress, TrainResult


def gui_thread_count() -> int:
    """Torch threads for a CPU run in the window: all cores but one, which stays free for the GUI."""
    return max(1, (os.cpu_count() or 2) - 1)


class TrainRun:
    """A run of ``config`` on ``project`` (a training snapshot); :meth:`execute` runs it once."""

    def __init__(self, project: SnapshotProject, config: TrainConfig) -> None:
        self.project = project
        self.config = replace(config, num_workers=0)  # no DataLoader processes inside the GUI
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Ask the run to end after the current batch (the checkpoint is kept); any thread."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def execute(self, on_progress: Callable[[TrainProgress], None] | None = None,
                on_epoch: Callable[[EpochSummary], None] | None = None) -> TrainResult:
        """Train (on the calling thread, a worker's) and return how it ended; never raises.

        ``on_progress`` / ``on_epoch`` are called on this thread: the window passes callables that
        hand the report over to its GUI thread.
        """
        try:
            return self._train(on_progress, on_epoch)
        finally:
            self.project.cleanup()

    def _train(self, on_progress: Callable[[TrainProgress], None] | None,
               on_epoch: Callable[[EpochSummary], None] | None) -> TrainResult:
        try:
            from segstudio.application.runtime import load_optimiser_machinery

            load_optimiser_machinery()  # first: torch loads here without freezing the window
            import torch

            from segstudio.model.device import pick_device
            from segstudio.model.training.train import train
            if pick_device(self.config.device).type == "cpu":
                torch.set_num_threads(gui_thread_count())
            return train(self.project, self.config, on_progress, on_epoch, self._stop.is_set)
        except (SegStudioError, ValueError) as exc:  # unusable input, an absent device, a bad setting
            return TrainResult("failed", str(exc), None, math.nan)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the window down
            return TrainResult("failed", f"training failed: {type(exc).__name__}: {exc}", None, math.nan)
