"""The review dock: prediction controls and per-class metrics of the prediction against the mask.

Two tables: "This image" (IoU, accuracy and pixel counts of the current prediction against the
painted mask, computed by the window's ReviewController off the GUI thread) and "Validation"
(per-class IoU of the active model's last validation, from its history.json). Both sort numerically;
a class with no pixels shows "—" and sorts last. Clicking a class of "This image" shows its errors
on the canvas.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from segstudio.application.review.controller import NO_PREDICTION, ImageMetrics
from segstudio.application.review.review_metrics import DASH, format_ratio, last_validation
from segstudio.application.review.review_rules import AcceptMode
from segstudio.core.metrics import SegMetrics
from segstudio.gui.canvas.predict_layer import ViewMode
from segstudio.gui.docks.class_dock import format_count
from segstudio.gui.docks.dock_body import scrolling
from segstudio.gui.docks.table_fit import wrap_rows

_VALUE = Qt.ItemDataRole.UserRole


class NumberItem(QTableWidgetItem):
    """A table cell that sorts by its number; NaN (shown as "—") sorts after every number."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.setData(_VALUE, float(value))
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other) -> bool:
        a, b = self.data(_VALUE), other.data(_VALUE)
        if a is None or b is None:
            return super().__lt__(other)
        if math.isnan(a) or math.isnan(b):
            # NaN last in ascending order, and also last in descending order is not possible with a
            # plain "<"; last in ascending keeps "—" out of the way of the best classes.
            return not math.isnan(a) and math.isnan(b)
        return a < b


def _ratio_item(value: float) -> NumberItem:
    return NumberItem(value, format_ratio(value))


def _count_item(value: int) -> NumberItem:
    """A pixel count in short (18.6 k: the four numeric columns leave the class names room in a
    narrow dock), exact in the tooltip."""
    item = NumberItem(float(value), format_count(value))
    item.setToolTip(f"{value:,}".replace(",", " ") + " pixels")
    return item


class ReviewDock(QDockWidget):
    """Prediction view controls, accept, predict-all, and the per-class tables."""

    mode_changed = Signal(object)  # ViewMode
    shown_changed = Signal(bool)
    opacity_changed = Signal(float)
    accept_requested = Signal(object, int)  # AcceptMode, class index
    predict_all_requested = Signal()
    sort_changed = Signal(bool)
    class_clicked = Signal(object)  # class index, or None for all classes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Review", parent)
        self.setObjectName("review_dock")
        self.class_names: list[str] = []
        self.colours: list[tuple[int, int, int]] = []
        self.metrics: SegMetrics | None = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._build_controls())
        self.tabs = QTabWidget()
        # Short headers (their meaning in the tooltips): four numbers leave the class names room.
        self.image_table = self._table(["Class", "IoU", "Acc.", "Mask", "Pred"])
        for column, tip in ((2, "Accuracy: the share of the class's mask pixels predicted as the class"),
                            (3, "Pixels of the class in the mask"), (4, "Pixels predicted as the class")):
            self.image_table.horizontalHeaderItem(column).setToolTip(tip)
        self.val_table = self._table(["Class", "IoU"])
        self.image_summary, self.val_summary = QLabel(DASH), QLabel(DASH)
        for label in (self.image_summary, self.val_summary):
            label.setWordWrap(True)  # a long message must not widen the dock
        for table, summary, title in ((self.image_table, self.image_summary, "This image"),
                                      (self.val_table, self.val_summary, "Validation")):
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(0, 4, 0, 0)
            page_layout.addWidget(summary)
            page_layout.addWidget(table, 1)
            self.tabs.addTab(page, title)
        layout.addWidget(self.tabs, 1)
        area = scrolling(body)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows wrap instead
        self.setWidget(area)
        self.image_table.cellClicked.connect(self._on_cell_clicked)

    # --- construction ----------------------------------------------------------------------------
    def _build_controls(self) -> QGroupBox:
        box = QGroupBox("Prediction")
        form = QFormLayout(box)
        form.setContentsMargins(6, 6, 6, 6)
        self.status = QLabel("No active model")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.show_box = QCheckBox("Show (T)")
        self.show_box.setChecked(True)
        self.mode_box = QComboBox()
        self.mode_box.addItems([m.value for m in ViewMode])
        self.mode_box.setCurrentIndex(list(ViewMode).index(ViewMode.BOTH))
        self.mode_box.setToolTip("What the canvas shows (V cycles)")
        row = QHBoxLayout()
        row.addWidget(self.show_box)
        row.addWidget(self.mode_box, 1)
        form.addRow(row)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        form.addRow("Opacity", self.opacity)
        self.accept_mode = QComboBox()
        self.accept_mode.addItems([m.value for m in AcceptMode])
        self.accept_class = QComboBox()
        self.accept_class.setEnabled(False)
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Copy the prediction into the mask as one undo step (Ctrl+Return)")
        for combo in (self.mode_box, self.accept_mode, self.accept_class):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        row = QHBoxLayout()
        row.addWidget(self.accept_mode, 1)
        row.addWidget(self.accept_class, 1)
        form.addRow(row)
        form.addRow(self.accept_button)
        self.predict_all = QPushButton("Predict all unlabelled…")
        self.predict_all.setToolTip("Predict every image without a mask (cached, masks untouched) "
                                    "and score how unsure the model is")
        self.sort_box = QCheckBox("Sort files: least certain first")
        form.addRow(self.predict_all)
        form.addRow(self.sort_box)
        self.show_box.toggled.connect(self.shown_changed)
        self.mode_box.currentIndexChanged.connect(lambda i: self.mode_changed.emit(list(ViewMode)[i]))
        self.opacity.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100.0))
        self.accept_mode.currentIndexChanged.connect(
            lambda i: self.accept_class.setEnabled(list(AcceptMode)[i] is AcceptMode.CLASS))
        self.accept_button.clicked.connect(self.request_accept)
        self.predict_all.clicked.connect(self.predict_all_requested)
        self.sort_box.toggled.connect(self.sort_changed)
        return box

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setSortingEnabled(True)
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # class order until the user clicks a header
        wrap_rows(table)  # long class names wrap; the table keeps room for a few rows
        return table

    # --- state from the controller ---------------------------------------------------------------
    def set_classes(self, names: list[str], colours: list[tuple[int, int, int]]) -> None:
        self.class_names, self.colours = list(names), [tuple(c) for c in colours]
        current = self.accept_class.currentIndex()
        self.accept_class.clear()
        self.accept_class.addItems([f"{i}: {n}" for i, n in enumerate(names)][1:])
        self.accept_class.setCurrentIndex(max(0, current))

    def set_mode(self, mode: ViewMode) -> None:
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(list(ViewMode).index(mode))
        self.mode_box.blockSignals(False)

    def set_shown(self, shown: bool) -> None:
        self.show_box.blockSignals(True)
        self.show_box.setChecked(shown)
        self.show_box.blockSignals(False)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def request_accept(self) -> None:
        mode = list(AcceptMode)[self.accept_mode.currentIndex()]
        self.accept_requested.emit(mode, self.accept_class.currentIndex() + 1)

    # --- this image ------------------------------------------------------------------------------
    def show_metrics(self, shown: ImageMetrics) -> None:
        """The review of this image (the controller's ``metrics_changed``)."""
        self.metrics = shown.metrics
        self._fill_image_table(shown.metrics, shown.text)

    def _fill_image_table(self, metrics: SegMetrics | None, text: str = NO_PREDICTION) -> None:
        table = self.image_table
        table.setSortingEnabled(False)
        table.setRowCount(0)
        if metrics is None:
            self.image_summary.setText(text)
            table.setSortingEnabled(True)
            return
        for i, name in enumerate(self.class_names):
            row = table.rowCount()
            table.insertRow(row)
            table.setItem(row, 0, self._name_item(i, name))
            table.setItem(row, 1, _ratio_item(metrics.iou[i]))
            table.setItem(row, 2, _ratio_item(metrics.accuracy[i]))
            table.setItem(row, 3, _count_item(int(metrics.gt_pixels[i])))
            table.setItem(row, 4, _count_item(int(metrics.pred_pixels[i])))
        table.setSortingEnabled(True)
        self.image_summary.setText(text)

    def _name_item(self, index: int, name: str) -> QTableWidgetItem:
        item = NumberItem(float(index), name)  # sorts in class order
        item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if index < len(self.colours):
            item.setForeground(QBrush(QColor(*self.colours[index]).darker(130)))
        return item

    def _on_cell_clicked(self, row: int, column: int) -> None:
        item = self.image_table.item(row, 0)
        if item is not None:
            self.class_clicked.emit(int(item.data(_VALUE)))

    def row_of_class(self, table: QTableWidget, index: int) -> int:
        for row in range(table.rowCount()):
            if int(table.item(row, 0).data(_VALUE)) == index:
                return row
        return -1

    # --- validation ------------------------------------------------------------------------------
    def set_validation(self, history: dict | None) -> None:
        """The last validation of the active model (its history.json), or nothing."""
        table = self.val_table
        table.setSortingEnabled(False)
        table.setRowCount(0)
        summary = last_validation(history, self.class_names)
        if summary is None:
            self.val_summary.setText("No validation yet: train a model")
            table.setSortingEnabled(True)
            return
        for i, (name, value) in enumerate(zip(summary.names, summary.iou)):
            row = table.rowCount()
            table.insertRow(row)
            table.setItem(row, 0, self._name_item(i, name))
            table.setItem(row, 1, _ratio_item(value))
        table.setSortingEnabled(True)
        self.val_summary.setText(summary.text)
