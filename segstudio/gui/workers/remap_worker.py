"""The progress dialog of a project-wide class rewrite (``ProjectSession.rewrite_classes`` runs it).

The dialog is window-modal, so the user waits for the rewrite while the window keeps painting;
its Cancel sets the flag the rewrite polls between masks (nothing is replaced once cancelled).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget


class RewriteProgress:
    """A progress dialog for ``total`` masks with a cancel flag for the worker."""

    def __init__(self, parent: QWidget | None, title: str, total: int) -> None:
        self.stop = threading.Event()
        self.dialog = QProgressDialog(title, "Cancel", 0, max(1, total), parent)
        self.dialog.setWindowTitle("Rewriting masks")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(300)
        self.dialog.canceled.connect(self.stop.set)

    def progress(self, done: int, total: int) -> None:
        self.dialog.setValue(done)

    def should_stop(self) -> bool:  # on the worker
        return self.stop.is_set()

    def close(self) -> None:
        self.dialog.reset()
        self.dialog.deleteLater()
