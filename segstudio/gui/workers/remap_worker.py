"""The project-wide class rewrite (``application.class_rewrite``) off the GUI thread, behind a
progress dialog with a Cancel button."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from segstudio.application.class_rewrite import Cancelled, rewrite_project
from segstudio.core.errors import SegStudioError


class _Worker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # None on success, else the error message ("" when cancelled)

    def __init__(self, project, lut) -> None:
        super().__init__()
        self.project, self.lut, self.stop = project, lut, False

    def run(self) -> None:
        try:
            rewrite_project(self.project, self.lut, self.progress.emit, lambda: self.stop)
            self.finished.emit(None)
        except Cancelled:
            self.finished.emit("")
        except (SegStudioError, OSError) as exc:
            self.finished.emit(str(exc))


class _Receiver(QObject):
    """Lives in the GUI thread so the worker's signals arrive there (queued), never in the worker."""

    def __init__(self, dialog: QProgressDialog, loop: QEventLoop) -> None:
        super().__init__()
        self.dialog, self.loop, self.result = dialog, loop, []

    @Slot(int, int)
    def on_progress(self, done: int, total: int) -> None:
        self.dialog.setValue(done)

    @Slot(object)
    def on_finished(self, message) -> None:
        self.result.append(message)
        self.loop.quit()


def run_with_progress(parent: QWidget | None, project, lut: np.ndarray, title: str) -> str | None:
    """Rewrite the project off the GUI thread while a progress dialog runs; returns the error
    message (``""`` when cancelled) or None on success. The GUI stays responsive meanwhile."""
    dialog = QProgressDialog(title, "Cancel", 0, max(1, len(project.labelled_entries())), parent)
    dialog.setWindowTitle("Rewriting masks")
    dialog.setMinimumDuration(300)
    thread = QThread()
    worker = _Worker(project, lut)
    worker.moveToThread(thread)
    loop = QEventLoop()
    receiver = _Receiver(dialog, loop)
    result = receiver.result
    worker.progress.connect(receiver.on_progress)
    worker.finished.connect(receiver.on_finished)
    dialog.canceled.connect(lambda: setattr(worker, "stop", True))
    thread.started.connect(worker.run)
    thread.start()
    loop.exec()
    thread.quit()
    thread.wait()
    dialog.reset()
    dialog.deleteLater()
    return result[0] if result else "interrupted"
