"""The window's status: the status-bar labels, the save state, a failed save said once, the title.

A part of the window that listens to the session (its save state and failures, dirty, read-only,
which image) and writes text; it decides nothing about saving.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from segstudio.application.session.controller import ProjectSession
from segstudio.application.window_title import window_title
from segstudio.gui.window import dialogs

LABELS = (("class", 150), ("pos", 110), ("zoom", 70), ("size", 100), ("save", 120))  # key, minimum width


class WindowStatus:
    """Status-bar labels, save state and title of one window."""

    def __init__(self, session: ProjectSession, bar: QStatusBar, set_title: Callable[[str], None],
                 parent: QWidget) -> None:
        self.session, self.bar, self._set_title, self._parent = session, bar, set_title, parent
        self.labels: dict[str, QLabel] = {}
        for key, width in LABELS:
            label = QLabel()
            label.setMinimumWidth(width)
            bar.addPermanentWidget(label)
            self.labels[key] = label
        self._error_shown = False  # the first failure of a run of them is a dialog, later ones a line
        session.save_state.connect(self._save_state)
        session.save_failed.connect(self._save_failed)
        session.save_conflict.connect(lambda message: self.show(message, 30000))
        session.team_said.connect(lambda message: self.show(message, 15000))
        session.dirty_changed.connect(lambda dirty: self.update_title())

    def show(self, text: str, milliseconds: int = 0) -> None:
        """A message in passing (0: until the next one)."""
        self.bar.showMessage(text, milliseconds)

    def _save_state(self, state: str) -> None:
        self.labels["save"].setText(state)
        if state == "saved" and not self.session.has_unsaved_snapshots():
            self._error_shown = False  # the next failure is news again

    def _save_failed(self, message: str) -> None:
        self.show(f"Save failed: {message}", 20000)
        if not self._error_shown:
            self._error_shown = True
            dialogs.error(self._parent, "Save failed", f"{message}\n\nYour edits are kept in memory; "
                          "choose another save folder (Ctrl+R) or free some space, then save again (Ctrl+S).")

    def update_title(self) -> None:
        session = self.session
        entry = session.entry or (session.target_entry if session.loading else None)
        count = len(session.project.entries) if session.project is not None else 0
        self._set_title(window_title(
            entry.image_path.name if entry is not None else "", session.index + 1, count,
            loading=session.current is None, dirty=session.dirty, verified=session.verified,
            mask_blocked=session.mask_blocked, read_only=bool(session.read_only or session.taken)))
