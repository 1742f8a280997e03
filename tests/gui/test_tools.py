"""Painting with every tool through synthetic mouse events at image coordinates, undo and redo."""

from __future__ import annotations

import numpy as np
from gui_helpers import click, double_click, drag, move, press, release
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.canvas.canvas_tools import Tool


def label(window) -> np.ndarray:
    return window.session.document.label


def key(window, k, modifiers=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(window, k, modifiers)


def test_brush_stroke_is_one_undo_step_and_redo_restores_it(window):
    key(window, Qt.Key.Key_2)  # class 2 ("dog") by number key
    assert window.tools.current_class == 2
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, 10), (20, 10), (30, 12)])
    lab = label(window)
    assert lab[10, 10] == 2 and lab[10, 20] == 2 and lab[12, 30] == 2 and lab[11, 15] == 2  # no gaps
    assert lab[30, 10] == 0
    painted = lab.copy()
    assert "*" in window.windowTitle()
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not label(window).any()
    key(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(label(window), painted)
    # The overlay shows the class colour exactly where the mask is painted.
    buffer = window.mask_layer._buffer
    assert buffer[10, 20, 3] > 0 and buffer[30, 10, 3] == 0


def test_brush_size_keys_and_true_size(window):
    window.tools.set_brush_size(10)
    key(window, Qt.Key.Key_BracketRight)
    assert window.tools.brush_size > 10
    key(window, Qt.Key.Key_BracketLeft)
    key(window, Qt.Key.Key_BracketLeft)
    assert window.tools.brush_size < 10
    window.tools.set_brush_size(7)
    click(window.canvas, 40, 30)
    rows = np.flatnonzero(label(window)[:, 40])
    assert rows.max() - rows.min() + 1 == 7  # a 7-pixel brush paints 7 pixels across


def test_eraser_and_ignore_brush(window):
    window.select_class(1)
    window.tools.set_brush_size(9)
    drag(window.canvas, [(10, 20), (50, 20)])
    key(window, Qt.Key.Key_E)
    assert window.tools.tool == Tool.ERASER
    drag(window.canvas, [(30, 20), (30, 21)])
    assert label(window)[20, 30] == 0 and label(window)[20, 12] == 1
    key(window, Qt.Key.Key_I)
    click(window.canvas, 60, 40)
    assert label(window)[40, 60] == IGNORE_INDEX


def test_shift_click_draws_a_straight_line(window):
    window.select_class(3)
    window.tools.set_brush_size(3)
    click(window.canvas, 10, 10)
    click(window.canvas, 60, 10, Qt.KeyboardModifier.ShiftModifier)
    assert (label(window)[10, 10:61] == 3).all()
    window.undo()  # the shift-line is its own step; the first dab stays
    assert label(window)[10, 10] == 3 and label(window)[10, 35] == 0


def test_polygon_enter_closes_backspace_removes_escape_cancels(window):
    canvas = window.canvas
    key(window, Qt.Key.Key_P)
    window.select_class(1)
    for x, y in [(10, 10), (40, 10), (70, 50), (40, 40)]:
        click(canvas, x, y)
    QTest.keyClick(canvas, Qt.Key.Key_Backspace)  # drops (40, 40)
    assert not label(window).any()  # nothing painted before closing
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    lab = label(window)
    assert lab[15, 30] == 1 and lab[11, 20] == 1 and lab[12, 12] == 0
    assert lab[40, 20] == 0  # the removed vertex would have covered this
    before = lab.copy()
    click(canvas, 1, 50)
    click(canvas, 5, 55)
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    np.testing.assert_array_equal(label(window), before)
    # Double-click closes too.
    window.select_class(2)
    for x, y in [(50, 5), (75, 5)]:
        click(canvas, x, y)
    double_click(canvas, 75, 25)
    assert label(window)[8, 70] == 2


def test_rectangle_and_fill(window):
    canvas = window.canvas
    key(window, Qt.Key.Key_R)
    window.select_class(2)
    drag(canvas, [(10, 10), (20, 15), (30, 20)])
    lab = label(window)
    assert (lab[10:21, 10:31] == 2).all() and lab[9, 10] == 0 and lab[21, 30] == 0
    key(window, Qt.Key.Key_F)
    window.select_class(1)
    click(canvas, 50, 50)  # background region: everything but the rectangle
    lab = label(window)
    assert lab[50, 50] == 1 and lab[0, 0] == 1 and lab[15, 15] == 2
    window.undo()
    assert label(window)[50, 50] == 0


def test_fill_with_colour_tolerance_stops_at_colour_edges(window):
    key(window, Qt.Key.Key_F)
    window.select_class(3)
    window.tool_dock.set_tolerance(20)  # the test images are a horizontal grey ramp
    assert window.tools.fill_tolerance == 20
    click(window.canvas, 5, 30)
    row = label(window)[30]
    assert row[5] == 3 and row[0] == 3 and row[-1] == 0


def test_fill_unlabelled_action(window):
    window.select_class(1)
    drag(window.canvas, [(10, 10), (12, 10)])
    window.select_class(2)
    window.actions["fill_unlabelled"].trigger()
    lab = label(window)
    assert lab[10, 10] == 1 and (lab[lab != 1] == 2).all()


def test_alt_click_picks_class(window):
    window.select_class(3)
    click(window.canvas, 20, 20)
    window.select_class(1)
    click(window.canvas, 20, 20, Qt.KeyboardModifier.AltModifier)
    assert window.tools.current_class == 3
    assert window.class_dock.current_value() == 3


def test_ctrl_wheel_zooms_around_cursor(window):
    canvas = window.canvas
    fit = canvas.scale
    # Zoomed in first, so the image overflows the view both ways: a point can only stay under the
    # cursor where the view can scroll (a smaller image is centred, whatever the dock widths).
    canvas.set_scale(fit * 3, canvas.image_to_widget(40, 30))
    before = canvas.scale
    anchor = canvas.image_to_widget(35, 27)
    event = QWheelEvent(
        QPointF(anchor), QPointF(canvas.viewport().mapToGlobal(anchor)), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(canvas.viewport(), event)
    assert canvas.scale > before * 1.4
    x, y = canvas.widget_to_image(anchor)
    assert abs(x - 35) < 1 and abs(y - 27) < 1  # the point under the cursor stays there
    key(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # fit window
    assert abs(canvas.scale - fit) < 1e-6
    window.actions["zoom_original"].trigger()
    assert canvas.scale == 1.0


def test_high_zoom_maps_pixels_exactly(window):
    canvas = window.canvas
    canvas.set_scale(12.0, canvas.image_to_widget(40, 30))
    window.select_class(1)
    window.tools.set_brush_size(1)
    click(canvas, 41, 31)
    assert label(window)[31, 41] == 1 and label(window).sum() == 1
    move(canvas, 41, 31, pressed=False)
    assert window.status_labels["class"].text().startswith("1:")
    assert window.status_labels["pos"].text() == "x 41, y 31"


def test_space_drag_pans_without_verifying(window):
    canvas = window.canvas
    canvas.set_scale(8.0)
    canvas.setFocus()
    h_before = canvas.horizontalScrollBar().value()
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    press(canvas, 40, 30)
    move(canvas, 30, 30)
    release(canvas, 30, 30)
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.horizontalScrollBar().value() > h_before
    assert not label(window).any()
    assert not window.session.verified


def test_status_bar_names_the_label_under_a_still_cursor(window):
    window.select_class(2)
    window.tools.set_brush_size(5)
    move(window.canvas, 30, 30, pressed=False)
    assert window.status_labels["class"].text() == "0: background"
    drag(window.canvas, [(30, 30), (31, 30)])  # paint where the cursor rests
    assert window.status_labels["class"].text() == "2: dog"
    window.undo()
    assert window.status_labels["class"].text() == "0: background"
