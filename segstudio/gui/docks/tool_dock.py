"""The tool options dock: tool buttons, brush size, mask opacity, fill and wand tolerances.

Return or Esc in one of its fields ends the editing (``editing_done``): the window gives the
keyboard back to the canvas, so the class and tool keys work again at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from segstudio.gui.canvas.canvas_tools import MAX_BRUSH, MIN_BRUSH
from segstudio.gui.docks.field_keys import end_editing_with_keys
from segstudio.gui.window.icons import CHECKED_STYLE


def _slider_with_spin(minimum: int, maximum: int, suffix: str) -> tuple[QWidget, QSlider, QSpinBox]:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(minimum, maximum)
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSuffix(suffix)
    slider.valueChanged.connect(spin.setValue)
    spin.valueChanged.connect(slider.setValue)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(slider, 1)
    layout.addWidget(spin)
    return row, slider, spin


class ToolDock(QDockWidget):
    """Sizes and opacity; the tool buttons show the window's (checkable) tool actions."""

    brush_size_changed = Signal(int)
    opacity_changed = Signal(float)  # 0..1
    tolerance_changed = Signal(int)
    wand_tolerance_changed = Signal(int)
    editing_done = Signal()  # Return or Esc in a field: the keyboard goes back to the canvas

    def __init__(self, tool_actions, parent: QWidget | None = None) -> None:
        super().__init__("Tool options", parent)
        self.setObjectName("tool_dock")
        grid = QGridLayout()
        for i, action in enumerate(tool_actions):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setStyleSheet(CHECKED_STYLE)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            grid.addWidget(button, i // 3, i % 3)
        size_row, self.size_slider, self.size_spin = _slider_with_spin(MIN_BRUSH, MAX_BRUSH, " px")
        opacity_row, self.opacity_slider, self.opacity_spin = _slider_with_spin(0, 100, " %")
        self.tolerance_spin = QSpinBox()
        self.tolerance_spin.setRange(0, 255)
        self.tolerance_spin.setSpecialValueText("off (same label)")
        self.tolerance_spin.setToolTip("Fill: also stop where the image colour differs by more than this")
        self.wand_spin = QSpinBox()
        self.wand_spin.setRange(0, 255)
        self.wand_spin.setToolTip("Magic wand: the colour tolerance each click starts with (dragging sideways "
                                  "changes it for that click only)")
        form = QFormLayout()
        form.addRow("Brush size", size_row)
        form.addRow("Mask opacity", opacity_row)
        form.addRow("Fill tolerance", self.tolerance_spin)
        form.addRow("Wand tolerance", self.wand_spin)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(grid)
        layout.addLayout(form)
        layout.addStretch(1)
        self.setWidget(body)
        self.size_spin.valueChanged.connect(self.brush_size_changed)
        self.opacity_spin.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100.0))
        self.tolerance_spin.valueChanged.connect(self.tolerance_changed)
        self.wand_spin.valueChanged.connect(self.wand_tolerance_changed)
        fields = (self.size_slider, self.size_spin, self.opacity_slider, self.opacity_spin, self.tolerance_spin,
                  self.wand_spin)
        end_editing_with_keys(fields, self.editing_done.emit, self)

    def set_brush_size(self, size: int) -> None:
        if self.size_spin.value() != size:
            self.size_spin.setValue(size)

    def set_opacity(self, opacity: float) -> None:
        self.opacity_spin.setValue(round(opacity * 100))

    def set_tolerance(self, tolerance: int) -> None:
        self.tolerance_spin.setValue(tolerance)

    def set_wand_tolerance(self, tolerance: int) -> None:
        self.wand_spin.setValue(tolerance)
