"""The Review dock's "Kept" page: how much of the model's pre-fill was kept, image after image.

Each point is one image opened with a prediction on screen and then saved (the share of the
prediction kept in the mask, :mod:`segstudio.core.kept_prediction`), in the order the images were
labelled; the line under it says, once the last images have settled, that more labels will change
little. It only shows what :class:`~segstudio.application.review.kept_record.KeptRecorder` records.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from segstudio.application.review.kept_record import KeptRecord
from segstudio.core.kept_prediction import WINDOW, plateau_sentence

EMPTY = "No image yet: open an image while a prediction shows, label it and save."
MARGIN = 28


class KeptChart(QWidget):
    """Share kept (0-100 %) against labelling order; the last WINDOW images shaded."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shares: list[float] = []
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_shares(self, shares: list[float]) -> None:
        self.shares = list(shares)
        self.setToolTip(f"{len(shares)} images; last kept {100 * shares[-1]:.0f} %" if shares else "")
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(MARGIN, 8, -8, -20)
        text = self.palette().windowText().color()
        painter.setPen(QPen(text, 1))
        painter.drawRect(area)
        for share in (0.0, 0.5, 1.0):
            y = area.bottom() - share * area.height()
            painter.drawText(QRectF(0, y - 8, MARGIN - 4, 16), Qt.AlignmentFlag.AlignRight, f"{100 * share:.0f}")
        count = len(self.shares)
        painter.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), 16),
                         Qt.AlignmentFlag.AlignCenter, f"images in labelling order ({count})")
        if count == 0:
            return

        def point(i: int, share: float) -> QPointF:
            x = area.left() + (area.width() * (i + 0.5) / count)
            return QPointF(x, area.bottom() - max(0.0, min(1.0, share)) * area.height())

        if count >= WINDOW:
            left = point(count - WINDOW, 0).x() - area.width() / (2 * count)
            painter.fillRect(QRectF(left, area.top(), area.right() - left, area.height()), QColor(120, 160, 220, 50))
        path = QPainterPath(point(0, self.shares[0]))
        for i, share in enumerate(self.shares[1:], start=1):
            path.lineTo(point(i, share))
        painter.setPen(QPen(QColor(40, 110, 200), 2))
        painter.drawPath(path)
        painter.setBrush(QColor(40, 110, 200))
        for i, share in enumerate(self.shares):
            painter.drawEllipse(point(i, share), 2.5, 2.5)


class KeptPlot(QWidget):
    """The chart and its sentence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.sentence = QLabel(EMPTY)
        self.sentence.setWordWrap(True)
        self.chart = KeptChart()
        layout.addWidget(self.sentence)
        layout.addWidget(self.chart, 1)

    def set_records(self, records: list[KeptRecord]) -> None:
        shares = [r.overall for r in records]
        self.chart.set_shares(shares)
        if not shares:
            self.sentence.setText(EMPTY)
            return
        settled = plateau_sentence(shares)
        last = min(WINDOW, len(shares))
        mean = sum(shares[-last:]) / last
        why = (f"{WINDOW} images are needed to tell whether it has settled" if len(shares) < WINDOW
               else "still changing: more labels still help")
        self.sentence.setText(settled or f"The model's pre-fill is kept at {100 * mean:.0f} % over the last "
                                         f"{last} images ({why}).")
