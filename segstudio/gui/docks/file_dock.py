"""The file list dock: every image of the project with labelled / verified marks and a filter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

STATES = ("All", "Labelled", "Unlabelled", "Verified")
_INDEX_ROLE = Qt.ItemDataRole.UserRole


def _mark_icon(kind: str) -> QIcon:
    """Small round marks: hollow grey (unlabelled), filled green (labelled), green with tick (verified)."""
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if kind == "unlabelled":
        painter.setPen(QPen(QColor(150, 150, 150), 1.5))
        painter.drawEllipse(2, 2, 10, 10)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(40, 160, 70))
        painter.drawEllipse(1, 1, 12, 12)
        if kind == "verified":
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(4, 7, 6, 10)
            painter.drawLine(6, 10, 10, 4)
    painter.end()
    return QIcon(pixmap)


class FileDock(QDockWidget):
    """Lists the project's images; activating one asks the window to show it."""

    image_activated = Signal(int)
    order_changed = Signal()  # the rows were reordered (the uncertainty sort)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Files", parent)
        self.setObjectName("file_dock")
        self._icons = {kind: _mark_icon(kind) for kind in ("unlabelled", "labelled", "verified")}
        self._states: list[str] = []
        self._items: list[QListWidgetItem] = []  # by entry index (the rows may be reordered: set_order)
        self._names: list[str] = []
        self._order: list[int] = []  # entry indices top to bottom, as listed
        self._suffixes: dict[int, str] = {}  # set_order's texts after the names
        self._who: dict[int, str] = {}  # who edits an image in another window ("alice since 10:42")
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name")
        self.filter_edit.setClearButtonEnabled(True)
        self.state_box = QComboBox()
        self.state_box.addItems(STATES)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.summary = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.state_box)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.summary)
        self.setWidget(body)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.state_box.currentIndexChanged.connect(self._apply_filter)
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)

    def set_project(self, project) -> None:
        """Fill the list from ``project.entries`` (marks read from the save folder)."""
        self.list.clear()
        self._states = []
        self._items = []
        self._order = list(range(len(project.entries))) if project is not None else []
        self._names = [entry.image_path.name for entry in (project.entries if project is not None else [])]
        self._suffixes, self._who = {}, {}
        for index, entry in enumerate(project.entries if project is not None else []):
            item = QListWidgetItem(entry.image_path.name)
            item.setData(_INDEX_ROLE, index)
            item.setToolTip(str(entry.image_path))
            self.list.addItem(item)
            self._items.append(item)
            self._states.append("")
            self._mark(project, index)
        self._update_summary()
        self._apply_filter()

    def update_entry(self, project, index: int) -> None:
        """Refresh the mark of entry ``index`` after a save or verification."""
        if self._mark(project, index):
            self._update_summary()
            self._apply_filter_to(index)

    def _item(self, index: int) -> QListWidgetItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def set_order(self, order: list[int] | None, suffixes: dict[int, str] | None = None) -> None:
        """Show the entries in ``order`` (indices; None = file order) with ``suffixes`` after the names
        (e.g. an uncertainty score). Entry indices, filter and marks are unchanged.

        Called after every prediction (in live mode every few seconds), so it only touches what
        changed: the texts whose suffix changed, and the rows only when the order did."""
        order = list(order) if order is not None else list(range(len(self._items)))
        listed = set(order)
        order += [i for i in range(len(self._items)) if i not in listed]
        self._suffixes = dict(suffixes or {})
        self._refresh_texts()
        if order == self._order:
            return
        current = self.list.currentItem()
        seen_at = self._rows_from_top(current)
        self.list.blockSignals(True)
        while self.list.count():
            self.list.takeItem(self.list.count() - 1)  # from the end: no rows shift
        for index in order:
            self.list.addItem(self._items[index])
        self._order = order
        if current is not None:
            self.list.setCurrentItem(current)
        self.list.blockSignals(False)
        self._apply_filter()  # hidden rows are a property of the view, lost when rows move
        self._keep_in_view(current, seen_at)
        self.order_changed.emit()

    def _rows_from_top(self, item: QListWidgetItem | None) -> int | None:
        """How many rows below the top of the view ``item`` is shown (None: not in view)."""
        if item is None or item.isHidden():
            return None
        rect, height = self.list.visualItemRect(item), self.list.viewport().height()
        if rect.bottom() < 0 or rect.top() >= height:
            return None
        return max(0, rect.top()) // max(1, rect.height())

    def _keep_in_view(self, item: QListWidgetItem | None, rows_from_top: int | None) -> None:
        """A reorder (scores arriving) keeps the current row where the user saw it, else in view."""
        if item is None or item.isHidden():
            return
        self.list.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtTop)
        if rows_from_top:
            bar = self.list.verticalScrollBar()
            step = 1 if self.list.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem else \
                self.list.visualItemRect(item).height()
            bar.setValue(max(0, bar.value() - rows_from_top * step))
        self.list.scrollToItem(item, QAbstractItemView.ScrollHint.EnsureVisible)

    def position_of(self, index: int) -> int:
        """Where entry ``index`` is listed, from 1 (the file order, or the sort shown): the title's
        "(2/10)" follows the list the user reads."""
        item = self._item(index)
        row = self.list.row(item) if item is not None else -1
        return row + 1 if row >= 0 else index + 1

    def set_claimed(self, who: dict[int, str]) -> None:
        """Show who is on what: an image another window edits gets the person after its name,
        greyed and in italics (A/D pass over it; opening it shows it read-only)."""
        if who == self._who:
            return
        self._who = dict(who)
        self._refresh_texts()

    def _refresh_texts(self) -> None:
        for index, item in enumerate(self._items):
            name = self._names[index] if index < len(self._names) else item.text()
            who = self._who.get(index)
            text = name + self._suffixes.get(index, "") + (f"  — {who.split(' since ')[0]}" if who else "")
            if item.text() != text:
                item.setText(text)
                font = item.font()
                font.setItalic(bool(who))
                item.setFont(font)
                item.setForeground(QColor(130, 130, 130) if who else self.list.palette().text().color())
                path = item.toolTip().split("\n")[0]
                item.setToolTip(path + (f"\nedited by {who}" if who else ""))

    def _mark(self, project, index: int) -> bool:
        item = self._item(index)
        if item is None or index >= len(project.entries):
            return False
        entry = project.entries[index]
        if project.is_verified(entry):
            state = "verified"
        elif project.is_labelled(entry):
            state = "labelled"
        else:
            state = "unlabelled"
        self._states[index] = state
        item.setIcon(self._icons[state])
        return True

    def state_of(self, index: int) -> str:
        return self._states[index]

    def set_current(self, index: int) -> None:
        item = self._item(index)
        if item is not None:
            self.list.blockSignals(True)
            self.list.setCurrentItem(item)
            self.list.blockSignals(False)
            self.list.scrollToItem(item)

    def visible_indices(self) -> list[int]:
        return [i for i, item in enumerate(self._items) if not item.isHidden()]

    def displayed_indices(self) -> list[int]:
        """The visible entries top to bottom as the user sees them (sorted or not): A/D follow this."""
        return sorted(self.visible_indices(), key=lambda i: self.list.row(self._items[i]))

    def _activated(self, item: QListWidgetItem) -> None:
        self.image_activated.emit(int(item.data(_INDEX_ROLE)))

    def _apply_filter(self) -> None:
        text, wanted = self._filter()
        for index in range(len(self._items)):
            self._apply_filter_to(index, text, wanted)

    def _filter(self) -> tuple[str, str]:
        """(name filter, wanted state), lower case."""
        return self.filter_edit.text().strip().lower(), STATES[self.state_box.currentIndex()].lower()

    def _apply_filter_to(self, index: int, text: str | None = None, wanted: str | None = None) -> None:
        item = self._items[index]
        if text is None or wanted is None:
            text, wanted = self._filter()
        state = self._states[index]
        state_ok = (
            wanted == "all"
            or state == wanted
            or (wanted == "labelled" and state == "verified")
        )
        name = self._names[index] if index < len(self._names) else item.text()
        item.setHidden(not (state_ok and text in name.lower()))

    def _update_summary(self) -> None:
        total = len(self._states)
        labelled = sum(1 for s in self._states if s != "unlabelled")
        verified = sum(1 for s in self._states if s == "verified")
        self.summary.setText(f"{labelled} of {total} labelled, {verified} verified")
