"""Training in a background QThread: the model layer's plain callables become queued Qt signals.

``segstudio.model.train.train`` knows nothing of Qt. This thread calls it with ``on_progress`` /
``on_epoch`` that emit signals (the QThread object lives in the GUI thread, so the connections are
queued and slots run there) and ``should_stop`` reading a :class:`threading.Event`. Every failure,
including a :class:`TrainingError` raised before the run starts, ends as a "failed"
:class:`TrainResult` with a readable message: the window never sees an exception.
"""

from __future__ import annotations

import math
import os
import threading

from PySide6.QtCore import QThread, Signal

from segstudio.core.errors import SegStudioError

from segstudio.application.train_snapshot import SnapshotProject


def gui_thread_count() -> int:
    """Torch threads for a CPU run: all cores but one, which stays free for the window."""
    return max(1, (os.cpu_count() or 2) - 1)


class TrainThread(QThread):
    """Runs one training; ``finished_run`` brings its TrainResult (always, exactly once)."""

    progress = Signal(object)  # TrainProgress
    epoch_done = Signal(object)  # EpochSummary
    finished_run = Signal(object)  # TrainResult

    def __init__(self, project: SnapshotProject, config, parent=None) -> None:
        super().__init__(parent)
        self.project = project
        self.config = config
        self._stop = threading.Event()
        self.result = None

    def request_stop(self) -> None:
        """Ask the run to end after the current batch (the checkpoint is kept)."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # worker thread
        try:
            self.result = self._train()
        finally:
            if isinstance(self.project, SnapshotProject):
                self.project.cleanup()
        self.finished_run.emit(self.result)

    def _train(self):
        from segstudio.model.train import TrainResult, train
        try:
            import torch
            from segstudio.model.device import pick_device
            if pick_device(self.config.device).type == "cpu":
                torch.set_num_threads(gui_thread_count())
            self.config.num_workers = 0  # no DataLoader processes inside the GUI
            return train(self.project, self.config, self.progress.emit, self.epoch_done.emit,
                         self._stop.is_set)
        except SegStudioError as exc:
            return TrainResult("failed", str(exc), None, math.nan)
        except ValueError as exc:  # an absent device, a bad setting
            return TrainResult("failed", str(exc), None, math.nan)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the window down
            return TrainResult("failed", f"training failed: {type(exc).__name__}: {exc}", None, math.nan)
