"""The error map's legend, drawn in the canvas corner while the error map is shown: what each
colour means, and which class the map is limited to, with a button that shows all classes again."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from segstudio.core.overlay import CORRECT_RGBA, MISSED_RGBA, WRONG_RGBA

MARGIN = 8


def _chip(rgba: tuple[int, int, int, int], text: str) -> str:
    r, g, b, _ = rgba
    return (f'<span style="background-color: rgb({r},{g},{b});">&nbsp;&nbsp;&nbsp;&nbsp;</span>'
            f"&nbsp;{text}")


class ErrorLegend(QFrame):
    """A small panel over the canvas viewport (a child widget: it never scrolls or zooms)."""

    clear_filter = Signal()

    def __init__(self, viewport: QWidget) -> None:
        super().__init__(viewport)
        self.setObjectName("error_legend")
        self.setStyleSheet("#error_legend { background: rgba(20, 20, 20, 190); border-radius: 4px; }"
                           "QLabel { color: white; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.text = QLabel()
        self.clear_button = QToolButton()
        self.clear_button.setText("Show all classes")
        self.clear_button.setToolTip("Show the errors of every class again")
        self.clear_button.clicked.connect(self.clear_filter)
        layout.addWidget(self.text)
        layout.addWidget(self.clear_button)
        self.hide()

    def show_for(self, class_name: str | None) -> None:
        """Show the legend; ``class_name``: the class the map is limited to (None: all)."""
        parts = [_chip(WRONG_RGBA, "wrong class"), _chip(MISSED_RGBA, "missed"),
                 _chip(CORRECT_RGBA[:3] + (255,), "right")]
        text = " &nbsp; ".join(parts)
        if class_name is not None:
            text += f" &nbsp;|&nbsp; only <b>{_escape(class_name)}</b>"
        self.text.setText(text)
        self.clear_button.setVisible(class_name is not None)
        self.adjustSize()
        self.move(MARGIN, MARGIN)
        self.show()
        self.raise_()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
