"""Return and Esc in a dock's field hand the keyboard back to the canvas.

A spin box with the focus takes the digits: after typing a brush size and Return, "2" went into the
field instead of choosing class 2, and every one-key shortcut stayed dead until a click on the
canvas. Return (the value is taken first) and Esc end the editing: ``done()`` then gives the
keyboard back (the window passes the canvas's ``setFocus``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QWidget

ENDING_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)


class _EndKeys(QObject):
    def __init__(self, done: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._done = done

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() != QEvent.Type.KeyPress or event.key() not in ENDING_KEYS:
            return False
        if isinstance(watched, QAbstractSpinBox) and event.key() != Qt.Key.Key_Escape:
            watched.interpretText()  # the typed value counts, as Return has always meant
        self._done()
        return True


def end_editing_with_keys(fields: Iterable[QWidget], done: Callable[[], None], owner: QObject) -> None:
    """Return / Enter / Esc in any of ``fields`` calls ``done`` (and go no further)."""
    keys = _EndKeys(done, owner)
    for field in fields:
        field.installEventFilter(keys)
