"""The mouse wheel scrolls the docks instead of changing the field under the pointer; Return and
Esc in a tool option give the keyboard back to the canvas (class keys, tool keys)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea


def wheel(widget, steps: int = -1) -> None:
    """``steps`` notches of the wheel over the middle of ``widget`` (negative: down)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_over_an_unfocused_combo_scrolls_the_training_dock(window):
    dock = window.model_features.train_dock
    window.resize(900, 420)  # the form is taller than the dock: it scrolls
    dock.show()
    dock.raise_()
    QApplication.processEvents()
    area = dock.widget().findChild(QScrollArea)  # the form scrolls; Train/Stop are pinned below it
    assert isinstance(area, QScrollArea)
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0, "the dock's content must be taller than the dock for this test"
    loss = dock.loss_box
    assert loss.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel no longer gives it the focus
    window.canvas.setFocus()
    before = loss.currentIndex()
    wheel(loss, -1)
    assert loss.currentIndex() == before
    assert bar.value() > 0, "the dock scrolled instead"
    size, scrolled = dock.size_box.value(), bar.value()
    wheel(dock.size_box, -1)
    assert dock.size_box.value() == size and bar.value() >= scrolled
    # a focused field keeps the wheel, as usual
    loss.setFocus()
    wheel(loss, -1)
    assert loss.currentIndex() == before + 1


def test_every_combo_of_the_window_is_guarded(window):
    QApplication.processEvents()
    combos = window.findChildren(QComboBox)
    assert combos
    assert all(c.focusPolicy() != Qt.FocusPolicy.WheelFocus for c in combos if c.isVisible())


def test_return_and_escape_in_a_tool_option_give_the_keys_back_to_the_canvas(qtbot, window):
    """After typing a brush size and Return, "2" chooses class 2 again (not "152 px")."""
    dock, canvas = window.tool_dock, window.canvas
    window.activateWindow()
    spin = dock.size_spin
    spin.setFocus()
    assert spin.hasFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "15")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.tools.brush_size == 15  # the typed value is taken
    assert canvas.hasFocus()
    window.select_class(1)
    qtbot.keyClick(canvas, Qt.Key.Key_2)
    assert window.tools.current_class == 2 and spin.value() == 15
    # Esc in another field leaves it as well
    dock.wand_spin.setFocus()
    qtbot.keyClick(dock.wand_spin, Qt.Key.Key_Escape)
    assert canvas.hasFocus()
