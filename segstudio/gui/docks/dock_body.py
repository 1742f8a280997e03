"""A dock's content in a scroll area, so a tall dock never forces the window taller (or the canvas
narrower) than the docks that were there before it."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class _Area(QScrollArea):
    def __init__(self, hint: QSize) -> None:
        super().__init__()
        self._hint = hint

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return self._hint


def scrolling(body: QWidget, width: int = 250, height: int = 300) -> QScrollArea:
    area = _Area(QSize(width, height))
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(body)
    area.setMinimumSize(200, 120)
    return area
