"""The classes dock: colour, name, index, pixel count on this image, visibility; class editing.

It only shows and asks: the window performs add / rename / recolour / delete / reorder (which may
rewrite every mask of the project) when the dock emits the matching request.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from segstudio.core.overlay import IGNORE_RGB
from segstudio.core.palette import IGNORE_INDEX

_VALUE_ROLE = Qt.ItemDataRole.UserRole
_SWATCH_ROLE = Qt.ItemDataRole.UserRole + 1
NAME, INDEX, PIXELS = range(3)


def swatch(colour: tuple[int, int, int], size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*colour))
    return QIcon(pixmap)


def _code(colour) -> int:
    """0xRRGGBB of a colour (kept in an item's data: a number compares the same after Qt's round trip)."""
    r, g, b = (int(v) for v in colour)
    return (r << 16) | (g << 8) | b


def format_count(count: int) -> str:
    """Pixel counts a person reads at a glance: 950, 18.6 k, 154 k, 1.6 M (exact in the tooltip)."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            value = count / scale
            return f"{value:.1f} {unit}" if value < 99.95 else f"{value:.0f} {unit}"
    return str(count)


class ClassDock(QDockWidget):
    """Class table with a button row; the ignore label (255) is listed last and cannot be edited."""

    class_selected = Signal(int)
    visibility_changed = Signal(object)  # list[bool] of 256 entries
    add_requested = Signal()
    rename_requested = Signal(int)
    recolour_requested = Signal(int)
    delete_requested = Signal(int)
    move_requested = Signal(int, int)  # index, +1 / -1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Classes", parent)
        self.setObjectName("class_dock")
        self.visible = [True] * 256
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Class", "#", "Pixels"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(INDEX, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PIXELS, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.buttons = {}
        grid = QGridLayout()
        for i, (key, text, tip) in enumerate([
            ("add", "Add", "Add a class"),
            ("rename", "Rename", "Rename the selected class (masks unchanged)"),
            ("colour", "Colour", "Change the colour of the selected class"),
            ("delete", "Delete", "Delete the class: its pixels become background in every mask"),
            ("up", "Up", "Move the class up (renumbers every mask)"),
            ("down", "Down", "Move the class down (renumbers every mask)"),
        ]):
            button = QPushButton(text)
            button.setToolTip(tip)
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[key] = button
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addLayout(grid)
        self.setWidget(body)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.itemChanged.connect(self._item_changed)
        self.buttons["add"].clicked.connect(self.add_requested)
        self.buttons["rename"].clicked.connect(lambda: self._request(self.rename_requested))
        self.buttons["colour"].clicked.connect(lambda: self._request(self.recolour_requested))
        self.buttons["delete"].clicked.connect(lambda: self._request(self.delete_requested))
        self.buttons["up"].clicked.connect(lambda: self._move(-1))
        self.buttons["down"].clicked.connect(lambda: self._move(+1))

    # --- filling ---------------------------------------------------------------------------------
    def set_classes(self, classes, current: int | None = None) -> None:
        """Rebuild the rows from a ClassList (keeps visibility flags by index).

        The list stays where the user left it: its scroll position and the selected class (``current``,
        else the one selected before) survive the rebuild. A list that jumped to the top after a rename
        put another class under the pointer, and the next click on Up or Down swapped the wrong two."""
        scrolled = self.tree.verticalScrollBar().value()
        if current is None:
            current = self.current_value()
        self.tree.blockSignals(True)
        self.tree.clear()
        rows = [(i, name, classes.colours[i]) for i, name in enumerate(classes.names)]
        rows.append((IGNORE_INDEX, classes.name_of(IGNORE_INDEX) + " (ignore)", IGNORE_RGB))
        for value, name, colour in rows:
            item = QTreeWidgetItem([name, str(value), "0"])
            item.setData(NAME, _VALUE_ROLE, value)
            item.setData(NAME, _SWATCH_ROLE, _code(colour))
            item.setIcon(NAME, swatch(colour))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(NAME, Qt.CheckState.Checked if self.visible[value] else Qt.CheckState.Unchecked)
            item.setTextAlignment(INDEX, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setTextAlignment(PIXELS, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        self.tree.doItemsLayout()  # the scroll range of the new rows, so the old position is not clamped
        self.tree.verticalScrollBar().setValue(scrolled)
        if current is not None:
            self.set_current(current)

    def set_swatches(self, lut: np.ndarray) -> None:
        """Each row's colour from the mask layer's table (core.overlay.mask_lut): painted background
        in a scribble project and the ignore label look in the list as they do on the canvas."""
        self.tree.blockSignals(True)
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            value = int(item.data(NAME, _VALUE_ROLE))
            colour = (int(lut[value, 0]), int(lut[value, 1]), int(lut[value, 2]))
            if item.data(NAME, _SWATCH_ROLE) != _code(colour):
                item.setData(NAME, _SWATCH_ROLE, _code(colour))
                item.setIcon(NAME, swatch(colour))
        self.tree.blockSignals(False)

    def swatch_of(self, value: int) -> tuple[int, int, int] | None:
        """The colour shown for label ``value`` (tests)."""
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.data(NAME, _VALUE_ROLE) == value:
                code = int(item.data(NAME, _SWATCH_ROLE))
                return code >> 16, (code >> 8) & 255, code & 255
        return None

    def set_counts(self, counts: np.ndarray | None) -> None:
        """Pixel count per label value (a (256,) array from bincount), or None to blank."""
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            value = item.data(NAME, _VALUE_ROLE)
            count = None if counts is None else int(counts[value])
            item.setText(PIXELS, "" if count is None else format_count(count))
            item.setToolTip(PIXELS, "" if count is None else f"{count:,} pixels")

    def set_current(self, value: int) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.data(NAME, _VALUE_ROLE) == value:
                self.tree.blockSignals(True)
                self.tree.setCurrentItem(item)
                self.tree.blockSignals(False)
                self.tree.scrollToItem(item)
                return

    def current_value(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else int(item.data(NAME, _VALUE_ROLE))

    def row_text(self, value: int) -> list[str]:
        """[name, index, pixels] of the row for label ``value`` (tests and status)."""
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.data(NAME, _VALUE_ROLE) == value:
                return [item.text(c) for c in range(3)]
        raise KeyError(value)

    # --- signals ---------------------------------------------------------------------------------
    def _current_changed(self, item, _previous) -> None:
        if item is not None:
            self.class_selected.emit(int(item.data(NAME, _VALUE_ROLE)))

    def _item_changed(self, item, column) -> None:
        if column != NAME:
            return
        value = int(item.data(NAME, _VALUE_ROLE))
        shown = item.checkState(NAME) == Qt.CheckState.Checked
        if self.visible[value] != shown:
            self.visible[value] = shown
            self.visibility_changed.emit(list(self.visible))

    def _request(self, signal) -> None:
        value = self.current_value()
        if value is not None and value != IGNORE_INDEX:
            signal.emit(value)

    def _move(self, delta: int) -> None:
        value = self.current_value()
        if value is not None and value not in (0, IGNORE_INDEX):
            self.move_requested.emit(value, delta)
