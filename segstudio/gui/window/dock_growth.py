"""The dock column grows with the window.

QMainWindow gives all of a resize to the central widget: a window made wider or taller left the
docks at their size, so a dock too small at 1280x820 stayed too small at 1920x1200. Here the dock
column keeps its share of the window's width, and the docks that can use height (the class list,
the tabbed docks) share what the window gains or loses in height as they shared it before. The
shares are measured before each resize, so the sizes the user gave by dragging the splitters are
kept; the bounds leave the canvas the room it needs.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

MIN_WIDTH = 330  # the training form and the per-class tables read at this width
MAX_SHARE = 0.45  # the canvas keeps more than half of the window


def column_width(window_width: int, share: float) -> int:
    """The dock column's width for ``window_width`` at ``share`` of it, within the bounds."""
    return int(round(max(MIN_WIDTH, min(share, MAX_SHARE) * window_width)))


def shared_heights(heights: list[int], growing: list[bool], change: int) -> list[int]:
    """``heights`` after the column gained ``change`` pixels (lost, when negative): the growing docks
    share it in proportion to their heights, the others keep theirs."""
    total = sum(h for h, g in zip(heights, growing) if g)
    if total <= 0:
        return list(heights)
    return [max(1, round(h + change * h / total)) if g else h for h, g in zip(heights, growing)]


class DockGrowth(QObject):
    """Keeps ``column``'s docks (top to bottom: the first sets the column's width; a dock of a tab
    group stands for the group) sized in proportion to ``window``; ``fixed`` docks keep their height."""

    def __init__(self, window: QMainWindow, column: list[QDockWidget], fixed: list[QDockWidget]) -> None:
        super().__init__(window)
        self.window, self.column, self.fixed = window, list(column), list(fixed)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if watched is self.window and event.type() == QEvent.Type.Resize and self.window.isVisible():
            old, new = event.oldSize(), event.size()
            if old.width() > 0 and old.height() > 0:
                self._follow(old.width(), new.width(), new.height() - old.height())
        return False

    def _shown(self) -> list[QDockWidget]:
        """The column's docks as laid out now: the tab of a group that is in front."""
        shown = []
        for dock in self.column:
            group = [dock, *self.window.tabifiedDockWidgets(dock)]
            front = next((d for d in group if d.isVisible() and not d.visibleRegion().isEmpty()), None)
            if front is not None and not front.isFloating():
                shown.append(front)
        return shown

    def _follow(self, old_width: int, new_width: int, height_change: int) -> None:
        docks = self._shown()
        if not docks:
            return
        if new_width != old_width:
            share = docks[0].width() / old_width
            self.window.resizeDocks([docks[0]], [column_width(new_width, share)], Qt.Orientation.Horizontal)
        if height_change:
            heights = shared_heights([d.height() for d in docks], [d not in self.fixed for d in docks], height_change)
            self.window.resizeDocks(docks, heights, Qt.Orientation.Vertical)
