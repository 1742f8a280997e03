"""The window's status: the status-bar labels, the save state, a failed save said once, the title.

A part of the window that listens to the session (its save state and failures, dirty, read-only,
which image) and writes text; it decides nothing about saving.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from segstudio.application.session.controller import ProjectSession
from segstudio.application.window_title import window_title
from segstudio.gui.window import dialogs

# key, minimum and maximum width: a long class name or save state is shortened, never pushes the rest
LABELS = (("class", 150, 240), ("pos", 110, 140), ("zoom", 70, 90), ("size", 100, 130), ("save", 120, 240))
MESSAGE_MARGIN = 16  # the status bar's own margin and the gap before the labels on the right


class ElidedLabel(QLabel):
    """A status-bar field whose text is shortened with "…" to its width (whole in the tooltip)
    instead of being cut mid-letter or widening the field over its neighbours."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(self.minimumWidth(), super().minimumSizeHint().height())


class WindowStatus:
    """Status-bar labels, save state and title of one window."""

    def __init__(self, session: ProjectSession, bar: QStatusBar, set_title: Callable[[str], None],
                 parent: QWidget, position: Callable[[int], int] | None = None) -> None:
        """``position``: where an entry is listed, from 1 (the title's number follows the list)."""
        self.session, self.bar, self._set_title, self._parent = session, bar, set_title, parent
        self._position = position if position is not None else (lambda index: index + 1)
        self.labels: dict[str, QLabel] = {}
        for key, width, widest in LABELS:
            label = ElidedLabel()
            label.setMinimumWidth(width)
            label.setMaximumWidth(widest)
            bar.addPermanentWidget(label)
            self.labels[key] = label
        self._error_shown = False  # the first failure of a run of them is a dialog, later ones a line
        session.save_state.connect(self._save_state)
        session.save_failed.connect(self._save_failed)
        session.save_conflict.connect(lambda message: self.show(message, 30000))
        session.team_said.connect(lambda message: self.show(message, 15000))
        session.dirty_changed.connect(lambda dirty: self.update_title())

    def show(self, text: str, milliseconds: int = 0) -> None:
        """A message in passing (0: until the next one): on one line, shortened with "…" in the
        middle (what happened, and the file or reason it ends with) where it would run into the
        labels on the right, which Qt cuts mid-letter; the whole of it in the bar's tooltip."""
        self.bar.setToolTip(text)
        self.bar.showMessage(self.fitted(text), milliseconds)

    def fitted(self, text: str) -> str:
        """``text`` on one line, elided to the room left of the first label shown on the right."""
        line = " · ".join(part.strip() for part in text.splitlines() if part.strip())
        labels = [label for label in self.labels.values() if not label.isHidden()]
        placed = [label.x() for label in labels if label.x() > 0]
        if placed:
            room = min(placed)
        else:  # not laid out yet: the bar less what the labels will take
            room = self.bar.width() - sum(max(label.minimumWidth(), label.sizeHint().width()) for label in labels)
        room -= MESSAGE_MARGIN
        return self.bar.fontMetrics().elidedText(line, Qt.TextElideMode.ElideMiddle, max(40, room))

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
            entry.image_path.name if entry is not None else "", self._position(session.index), count,
            loading=session.current is None, dirty=session.dirty, verified=session.verified,
            mask_blocked=session.mask_blocked, read_only=bool(session.read_only or session.taken)))
