"""The mouse wheel scrolls panels; it changes a setting only in a field the user has focused.

Scrolling down the Training dock with the pointer passing over the Loss box used to change the
loss: combo boxes, spin boxes and sliders take wheel events by default, and even take the focus
from the wheel (``Qt.WheelFocus``). One event filter on the application, installed once by the
window, guards every such field of every dock, dialog and later feature:

* when a field is polished (before it is first shown) a ``WheelFocus`` policy becomes
  ``StrongFocus``, so the wheel no longer gives it the focus;
* a wheel event over an unfocused field is not given to it: it goes to the nearest scroll area
  around the field (the dock scrolls), or is dropped when there is none.

A field the user has clicked or tabbed into (focused) keeps the wheel, as usual.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QSlider, QWidget

GUARDED = (QComboBox, QAbstractSpinBox, QSlider)


def is_guarded(widget: QObject) -> bool:
    """A field whose value the wheel would change."""
    return isinstance(widget, GUARDED)


def has_focus_within(widget: QWidget) -> bool:
    """The widget or one of its children (a spin box's line edit) has the keyboard focus."""
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


def scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest scroll area around ``widget`` (a dock's body, a table), or None."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and parent.viewport().isAncestorOf(widget):
            return parent
        parent = parent.parentWidget()
    return None


class WheelGuard(QObject):
    """The application's filter (see the module docstring)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        kind = event.type()
        if kind == QEvent.Type.Polish and is_guarded(watched):
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            return False
        if kind != QEvent.Type.Wheel or not is_guarded(watched) or has_focus_within(watched):
            return False
        area = scroll_area_of(watched)
        if area is not None:
            viewport = area.viewport()
            position = watched.mapTo(viewport, event.position().toPoint())
            forwarded = QWheelEvent(position.toPointF(), event.globalPosition(), event.pixelDelta(),
                                    event.angleDelta(), event.buttons(), event.modifiers(), event.phase(),
                                    event.inverted(), event.source())
            QApplication.sendEvent(viewport, forwarded)
            event.accept()  # scrolled once: not passed on to the field's parents as well
        else:
            event.ignore()  # the field's parents may use it
        return True  # the field never sees it


def install(app: QApplication | None = None) -> WheelGuard:
    """Install the guard on ``app`` (the running application) once; later calls return it."""
    app = app or QApplication.instance()
    guard = app.findChild(WheelGuard, "wheel_guard")
    if guard is None:
        guard = WheelGuard(app)
        guard.setObjectName("wheel_guard")
        app.installEventFilter(guard)
    return guard
