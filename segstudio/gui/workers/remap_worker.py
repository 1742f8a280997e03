"""The project-wide class rewrite (``application.class_rewrite``) on a background pool, behind a
progress dialog with a Cancel button.

Why it still waits in a local event loop: the class edits that call it (``window.class_ops``) are
synchronous for their callers and hold the session's writes for exactly the time of the rewrite.
The GUI keeps painting and the dialog's Cancel works meanwhile (the dialog is window-modal, and
``ClassEditor`` refuses a second class edit until the first is done); the work itself, its
progress and its answer go through :class:`BackgroundPool` like every other job of the window.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

import numpy as np
from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from segstudio.application.class_rewrite import Cancelled, rewrite_project
from segstudio.core.errors import SegStudioError
from segstudio.gui.workers.background import BackgroundPool

INTERRUPTED = "interrupted"  # the window closed (its pools shut down) before the rewrite ran


def outcome(future: Future) -> str | None:
    """The rewrite's answer as the caller wants it: None on success, "" when cancelled by the
    user, else the one-line reason (nothing on disk was changed, or the journal finishes it)."""
    if future.cancelled():
        return INTERRUPTED
    error = future.exception()
    if error is None:
        return None
    if isinstance(error, Cancelled):
        return ""
    if isinstance(error, (SegStudioError, OSError)):
        return str(error)
    return f"{type(error).__name__}: {error}"


def run_with_progress(parent: QWidget | None, project, lut: np.ndarray, title: str,
                      pool: BackgroundPool | None = None) -> str | None:
    """Rewrite the project on ``pool`` (a pool of its own when None) while a progress dialog runs;
    returns :func:`outcome`. The GUI stays responsive meanwhile."""
    own_pool = pool is None
    if pool is None:
        pool = BackgroundPool("class-rewrite", 1, parent)
    dialog = QProgressDialog(title, "Cancel", 0, max(1, len(project.labelled_entries())), parent)
    dialog.setWindowTitle("Rewriting masks")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)  # the window waits for the rewrite
    dialog.setMinimumDuration(300)
    stop = threading.Event()
    dialog.canceled.connect(stop.set)
    loop = QEventLoop()
    answer: list[str | None] = []

    def finished(future: Future) -> None:
        answer.append(outcome(future))
        loop.quit()

    def progress(done: int, total: int) -> None:  # on the worker thread
        pool.call_in_gui(dialog.setValue, done)

    future = pool.submit(rewrite_project, project, lut, progress, stop.is_set, on_done=finished)
    if future.cancelled():  # the pool is already shut down: the window is closing
        answer.append(INTERRUPTED)
    if not answer:
        loop.exec()
    dialog.reset()
    dialog.deleteLater()
    if own_pool:
        pool.shutdown()
    return answer[0]
