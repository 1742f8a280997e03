"""A batch job on a worker thread behind a progress dialog, with Cancel: the window's long operations.

Imports, exports, boxes to masks and clean-ups all take ``on_progress(done, total)`` and
``should_stop()`` (see :mod:`segstudio.core.batch`). Here they run in a
:class:`~segstudio.gui.workers.background.BackgroundPool`; the dialog follows the progress and
Cancel makes the job stop between two files. Nothing blocks: the answer arrives in ``on_done``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from segstudio.core.batch import Progress, StopFlag
from segstudio.gui.workers.background import BackgroundPool

Job = Callable[[Progress, StopFlag], Any]
SHOW_AFTER_MS = 300  # quick jobs finish before a dialog flashes up


def start_job(
    parent: QWidget | None, pool: BackgroundPool, title: str, job: Job, on_done: Callable[[Future], None]
) -> QProgressDialog:
    """Run ``job(on_progress, should_stop)`` in ``pool``; ``on_done(future)`` on the GUI thread."""
    dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(SHOW_AFTER_MS)
    dialog.setAutoReset(False)
    dialog.setAutoClose(False)
    stop = threading.Event()
    dialog.canceled.connect(stop.set)

    def progress(done: int, total: int) -> None:  # worker thread
        pool.call_soon(_show_progress, dialog, done, total)

    def finished(future: Future) -> None:  # GUI thread
        dialog.canceled.disconnect(stop.set)
        dialog.reset()
        dialog.deleteLater()
        on_done(future)

    pool.submit(job, progress, stop.is_set, on_done=finished)
    return dialog


def _show_progress(dialog: QProgressDialog, done: int, total: int) -> None:
    try:
        dialog.setMaximum(max(1, total))
        dialog.setValue(min(done, max(1, total)))
    except RuntimeError:  # the dialog is already gone
        pass
