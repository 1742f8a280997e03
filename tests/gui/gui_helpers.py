"""Synthetic mouse input at image coordinates for the window tests (sent to the canvas viewport)."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def _send(canvas, kind, x, y, button=Qt.MouseButton.LeftButton, buttons=None, modifiers=Qt.KeyboardModifier.NoModifier):
    """Send a mouse event at image pixel (x, y)'s centre to the canvas viewport."""
    pos = canvas.image_to_widget(x + 0.5, y + 0.5)
    viewport = canvas.viewport()
    if buttons is None:
        pressed = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonDblClick)
        buttons = button if kind in pressed else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def press(canvas, x, y, modifiers=Qt.KeyboardModifier.NoModifier, button=Qt.MouseButton.LeftButton):
    _send(canvas, QEvent.Type.MouseButtonPress, x, y, button, modifiers=modifiers)


def move(canvas, x, y, pressed=True, modifiers=Qt.KeyboardModifier.NoModifier):
    buttons = Qt.MouseButton.LeftButton if pressed else Qt.MouseButton.NoButton
    _send(canvas, QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, buttons, modifiers)


def release(canvas, x, y, modifiers=Qt.KeyboardModifier.NoModifier, button=Qt.MouseButton.LeftButton):
    _send(canvas, QEvent.Type.MouseButtonRelease, x, y, button, modifiers=modifiers)


def click(canvas, x, y, modifiers=Qt.KeyboardModifier.NoModifier):
    press(canvas, x, y, modifiers)
    release(canvas, x, y, modifiers)


def double_click(canvas, x, y):
    click(canvas, x, y)
    _send(canvas, QEvent.Type.MouseButtonDblClick, x, y)
    release(canvas, x, y)


def drag(canvas, points, modifiers=Qt.KeyboardModifier.NoModifier):
    (x0, y0), *rest = points
    press(canvas, x0, y0, modifiers)
    for x, y in rest:
        move(canvas, x, y, modifiers=modifiers)
    release(canvas, *points[-1], modifiers=modifiers)


def process_until(condition, timeout: float = 30.0) -> bool:
    """Run the event loop until ``condition()`` holds (True) or ``timeout`` s pass (False). Tests
    only: the window itself never waits, it follows the session's events."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        QApplication.processEvents()
        time.sleep(0.001)
    return True


def wait_loaded(window, timeout: float = 30.0) -> bool:
    """Until the image the window asked for is shown (False on timeout)."""
    return process_until(lambda: not window.session.loading, timeout)


def flush(window, timeout: float = 60.0) -> None:
    """Write the delayed save now and run the event loop until every queued write has answered."""
    done: list[bool] = []
    window.session.flush(lambda: done.append(True))
    assert process_until(lambda: bool(done), timeout), "the queued writes did not answer"
    QApplication.processEvents()


def settle(window, timeout: float = 60.0) -> None:
    """Until nothing of the session is on its way: loads, writes, a class rewrite."""
    editor = getattr(window, "class_editor", None)
    assert process_until(lambda: not window.session.loading and window.session.idle
                         and not (editor is not None and editor.rewriting), timeout)
    flush(window, timeout)


def close(window, timeout: float = 60.0) -> bool:
    """Close ``window`` as a user would: True once it has closed. A close that waits for the last
    writes ends later (the window closes itself once they have answered): followed here."""
    if window.close():
        return True
    if window.closing.confirmed:
        process_until(lambda: window.closing.done, timeout)
    return window.closing.done
