"""Live training curves: training loss (left axis) and validation mIoU (right axis, 0–1) by epoch."""

from __future__ import annotations

import math

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

LOSS_COLOUR = QColor(40, 110, 200)
MIOU_COLOUR = QColor(220, 120, 20)


class TrainChart(QChartView):
    """Two series on a shared epoch axis; points are appended as the run reports them."""

    def __init__(self, parent=None) -> None:
        chart = QChart()
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setMargins(QMargins(2, 2, 2, 2))
        chart.setBackgroundRoundness(0)
        self.loss = QLineSeries(name="training loss")
        self.loss.setPen(QPen(LOSS_COLOUR, 1.6))
        self.miou = QLineSeries(name="validation mIoU")
        self.miou.setPen(QPen(MIOU_COLOUR, 2.0))
        self.miou_dots = QScatterSeries()
        self.miou_dots.setColor(MIOU_COLOUR)
        self.miou_dots.setBorderColor(MIOU_COLOUR)
        self.miou_dots.setMarkerSize(6)
        self.x_axis = QValueAxis(titleText="epoch", labelFormat="%.0f")
        self.loss_axis = QValueAxis(titleText="loss", labelFormat="%.2f")
        self.miou_axis = QValueAxis(titleText="mIoU", labelFormat="%.1f")
        self.miou_axis.setRange(0.0, 1.0)
        for axis, side in ((self.x_axis, Qt.AlignmentFlag.AlignBottom), (self.loss_axis, Qt.AlignmentFlag.AlignLeft),
                           (self.miou_axis, Qt.AlignmentFlag.AlignRight)):
            axis.setTitleFont(axis.labelsFont())
            chart.addAxis(axis, side)
        pairs = ((self.loss, self.loss_axis), (self.miou, self.miou_axis), (self.miou_dots, self.miou_axis))
        for series, y_axis in pairs:
            chart.addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(y_axis)
        chart.legend().markers(self.miou_dots)[0].setVisible(False)
        self.setMinimumHeight(170)
        self.clear()

    def clear(self) -> None:
        for series in (self.loss, self.miou, self.miou_dots):
            series.clear()
        self._max_x, self._max_loss = 1.0, 0.1
        self.x_axis.setRange(0.0, 1.0)
        self.loss_axis.setRange(0.0, 0.1)

    def set_epochs(self, epochs: int) -> None:
        """The x range of the run (so the curve grows from the left instead of rescaling)."""
        self._max_x = max(1.0, float(epochs))
        self.x_axis.setRange(0.0, self._max_x)
        # A run of one or two long epochs (a big set) reads in tenths: 0, 0.2 … 1, not 0, 0, 0, 1.
        short = self._max_x < 3
        self.x_axis.setLabelFormat("%.1f" if short else "%.0f")
        self.x_axis.setTickCount(6 if short or self._max_x > 10 else int(self._max_x) + 1)

    def add_loss(self, epoch: float, loss: float) -> None:
        if not math.isfinite(loss):
            return
        self.loss.append(QPointF(epoch, loss))
        if loss > self._max_loss:
            self._max_loss = loss * 1.1
            self.loss_axis.setRange(0.0, self._max_loss)
        if epoch > self._max_x:
            self.set_epochs(math.ceil(epoch))

    def add_miou(self, epoch: float, miou: float | None) -> None:
        if miou is None or not math.isfinite(miou):
            return
        self.miou.append(QPointF(epoch, miou))
        self.miou_dots.append(QPointF(epoch, miou))
        if epoch > self._max_x:
            self.set_epochs(math.ceil(epoch))

    def show_history(self, epochs: list[dict]) -> None:
        """Curves of a finished run from its history.json (per-epoch loss and mIoU)."""
        self.clear()
        if not epochs:
            return
        self.set_epochs(max(int(e.get("epoch", i + 1)) for i, e in enumerate(epochs)))
        for i, e in enumerate(epochs):
            x = float(e.get("epoch", i + 1))
            if isinstance(e.get("train_loss"), (int, float)):
                self.add_loss(x, float(e["train_loss"]))
            self.add_miou(x, e.get("val_miou"))
