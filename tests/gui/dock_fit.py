"""Does every dock's content fit? The geometry checks of the dock tests and of
tests/tools/screenshot_fit.py (not a test module).

A dock fits when, in its scroll area, nothing is wider than the viewport (the docks never scroll
sideways: a button or a legend past the right edge is cut off), every table column is wide enough
for its texts (no "b…"), a table shows a useful number of rows, and the training chart's legend has
the room it needs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QScrollArea,
    QTableView,
    QTreeView,
    QWidget,
)

from segstudio.gui.docks.table_fit import MIN_ROWS, breakable  # a table of more rows shows at least this many at once

_TEXT_MARGIN = 6  # what an item view's delegate leaves around a text (Fusion, offscreen and xcb)


def visible_docks(window: QMainWindow) -> list[QDockWidget]:
    return [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.visibleRegion().isEmpty()]


def clipped(window: QMainWindow) -> list[str]:
    """What does not fit in the window's visible docks, one line each (empty: everything fits)."""
    problems: list[str] = []
    for dock in visible_docks(window):
        problems += dock_problems(dock)
    return problems


def dock_problems(dock: QDockWidget) -> list[str]:
    """A dock's content: its scroll areas' (a dock may pin some of it outside one), each widget
    inside the area or the dock that holds it, its tables and its chart."""
    top, name = dock.widget(), dock.windowTitle()
    areas = [top] if isinstance(top, QScrollArea) else top.findChildren(QScrollArea)
    problems = []
    for area in areas:
        body, view_width = area.widget(), area.viewport().width()
        if body is not None and body.width() > view_width:
            problems.append(f"{name}: content {body.width()} px wide in a {view_width} px viewport")
    for widget in top.findChildren(QWidget):
        if not isinstance(widget, (QAbstractButton, QLabel, QComboBox)) or not widget.isVisible():
            continue
        above = _ancestors(widget, top)
        if any(isinstance(p, QAbstractItemView) for p in above):
            continue  # a table's own corner button
        holder = next((p.viewport() for p in above if isinstance(p, QScrollArea)), top)
        right = widget.mapTo(holder, widget.rect().topRight()).x()
        if right > holder.width():
            label = widget.text() if hasattr(widget, "text") else type(widget).__name__
            problems.append(f"{name}: {type(widget).__name__} {label[:30]!r} ends at {right} > {holder.width()}")
        if isinstance(widget, QLabel) and widget.wordWrap() and widget.text():
            needed = widget.heightForWidth(widget.width())
            if widget.height() + 1 < needed:
                problems.append(f"{name}: label {widget.text()[:30]!r} is {widget.height()} px tall, needs {needed}")
    for view in top.findChildren(QAbstractItemView):
        if view.isVisible() and isinstance(view, (QTableView, QTreeView)):
            problems += [f"{name}: {p}" for p in view_problems(view)]
    chart = getattr(dock, "chart", None)
    if chart is not None and chart.isVisible():
        problems += [f"{name}: {p}" for p in legend_problems(chart)]
    return problems


def _ancestors(widget: QWidget, top: QWidget) -> list[QWidget]:
    found, parent = [], widget.parentWidget()
    while parent is not None and parent is not top:
        found.append(parent)
        parent = parent.parentWidget()
    return found


def _header(view):
    return view.horizontalHeader() if isinstance(view, QTableView) else view.header()


def view_problems(view: QAbstractItemView) -> list[str]:
    """Columns narrower than their texts (elided), sideways scrolling, too few rows shown."""
    header = _header(view)
    model = view.model()
    problems = []
    for column in range(model.columnCount()):
        if header.isSectionHidden(column):
            continue
        size = header.sectionSize(column)
        title = model.headerData(column, Qt.Orientation.Horizontal)
        needed = max(_needed_width(view, column), header.sectionSizeFromContents(column).width())
        if size < needed:
            problems.append(f"column {title!r} is {size} px, its texts need {needed}")
        elif view.wordWrap():
            problems += [f"column {title!r}: {p}" for p in _wrapped_rows_problems(view, column, size)]
    if header.length() > view.viewport().width() + 1:
        problems.append(f"columns {header.length()} px wide in a {view.viewport().width()} px view")
    rows = model.rowCount()
    if rows:
        row_height = max(1, view.sizeHintForRow(0))
        shown = view.viewport().height() // row_height
        if shown < min(rows, MIN_ROWS):
            problems.append(f"shows {shown} of {rows} rows")
    return problems


def _texts(view: QAbstractItemView, column: int) -> list[tuple[object, str]]:
    model = view.model()
    return [(model.index(row, column), str(model.index(row, column).data() or "")) for row in range(model.rowCount())]


def _needed_width(view: QAbstractItemView, column: int) -> int:
    """The width a column's texts need: the whole text, or in a view that wraps its longest word
    (plus what the item's icon, check box and margins take)."""
    if not view.wordWrap():
        return view.sizeHintForColumn(column)
    metrics = view.fontMetrics()
    needed = 0
    for index, text in _texts(view, column):
        whole = view.sizeHintForIndex(index).width()
        words = (breakable(text) if isinstance(view, QTreeView) else text).replace("\u200b", " ").split()
        longest = max((metrics.horizontalAdvance(word) for word in words), default=0)
        needed = max(needed, whole - metrics.horizontalAdvance(text) + longest)
    return needed


def _wrapped_rows_problems(view: QAbstractItemView, column: int, width: int) -> list[str]:
    """Each row as tall as its text wrapped to the column's width (no line cut off)."""
    metrics = view.fontMetrics()
    problems = []
    for index, text in _texts(view, column):
        if metrics.horizontalAdvance(text) <= width - _TEXT_MARGIN:
            continue  # one line
        room = view.visualRect(index).height()
        wrap = int(Qt.TextFlag.TextWordWrap)
        drawn = breakable(text) if isinstance(view, QTreeView) else text  # table_fit's trees break names
        lines = metrics.boundingRect(0, 0, max(1, width - _TEXT_MARGIN), 10000, wrap, drawn).height()
        if text and room < lines:
            problems.append(f"row {index.row()} ({text[:20]!r}) is {room} px tall, its text needs {lines}")
    return problems


def legend_problems(chart_view) -> list[str]:
    """The legend (and the chart) must have the width their texts need."""
    legend = chart_view.chart().legend()
    needed = legend.effectiveSizeHint(Qt.SizeHint.PreferredSize).width()
    have = legend.geometry().width()
    if have + 1 < needed:
        return [f"chart legend {have:.0f} px wide, needs {needed:.0f}"]
    return []
