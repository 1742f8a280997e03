"""Tables and lists in a narrow dock: texts wrap instead of being cut ("b…"), rows grow to hold
them, and a table keeps room for a useful number of rows when the dock is short (the dock scrolls
instead of squeezing the table to two rows)."""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
)

MIN_ROWS = 5  # rows a per-class table or a model list shows at once, however short its dock
_BREAKS = re.compile(r"([-_./])")


def breakable(name: str) -> str:
    """``name`` with a zero-width space after each "-", "_", "." and "/": Qt wraps only at spaces, and
    "segformer-b2-finetuned-ade-512-512" would otherwise be cut in a narrow column."""
    return _BREAKS.sub("\\1\u200b", name)


def _header(view: QAbstractItemView) -> QHeaderView:
    return view.horizontalHeader() if isinstance(view, QTableView) else view.header()


def wrap_rows(view: QTableView | QTreeView, stretch: int = 0) -> None:
    """Column ``stretch`` takes the free width and wraps its texts; the other columns are as wide as
    their texts; rows are as tall as their wrapped texts; the view never scrolls sideways and keeps
    room for :data:`MIN_ROWS` rows."""
    view.setWordWrap(True)
    view.setTextElideMode(Qt.TextElideMode.ElideNone)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = _header(view)
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(24)
    for column in range(header.count()):
        mode = QHeaderView.ResizeMode.Stretch if column == stretch else QHeaderView.ResizeMode.ResizeToContents
        header.setSectionResizeMode(column, mode)
    if isinstance(view, QTableView):
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    else:  # a tree asks its delegate for a row's height without the column's width: _TreeWrap gives it
        view.setUniformRowHeights(False)
        view.setItemDelegate(_TreeWrap(view))
        header.sectionResized.connect(lambda *_: view.doItemsLayout())
    row = view.fontMetrics().height() + 6
    view.setMinimumHeight(header.sizeHint().height() + MIN_ROWS * row + 2 * view.frameWidth() + 2)


class _TreeWrap(QStyledItemDelegate):
    """A tree's rows as tall as their texts wrapped to their column's width; names wrap at their
    dashes, dots and slashes too (:func:`breakable`: drawn so, the item's text stays the name)."""

    _MARGIN = 6  # what the style leaves around an item's text

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self.view = view

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.text = breakable(option.text)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        width = self.view.header().sectionSize(index.column())
        if width <= 0:
            return hint
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text_width = max(1, width - self._MARGIN - (opt.decorationSize.width() if not opt.icon.isNull() else 0))
        flags = int(Qt.TextFlag.TextWordWrap)
        height = QFontMetrics(opt.font).boundingRect(0, 0, text_width, 100000, flags, opt.text).height()
        return QSize(hint.width(), max(hint.height(), height + 2))
