"""Tool state machines: turn canvas mouse/key events (image coordinates) into Document edits.

Every edit goes through ``Document.paint`` via the core drawing shapes, and each gesture (a brush
stroke from press to release, a closed polygon, a rectangle, a fill) is one undo step. Nothing here
paints pixels on screen: the document tells the overlay layer which rectangle changed.
"""

from __future__ import annotations

import math
from enum import Enum

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from segstudio.core.document import Document
from segstudio.core.palette import IGNORE_INDEX


class Tool(str, Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    IGNORE = "ignore"
    POLYGON = "polygon"
    RECTANGLE = "rectangle"
    FILL = "fill"
    GRABCUT = "grabcut"
    WAND = "wand"
    SEGMENT = "segment"


BRUSH_LIKE = (Tool.BRUSH, Tool.ERASER, Tool.IGNORE)
ASSISTED = (Tool.GRABCUT, Tool.WAND, Tool.SEGMENT)  # gestures handled by ``ToolController.assist`` (AssistTools)
MIN_BRUSH, MAX_BRUSH = 1, 500


def _centre(x: float, y: float) -> tuple[float, float]:
    """Canvas coordinates (pixel i spans [i, i+1)) to drawing's pixel-centre coordinates."""
    return x - 0.5, y - 0.5


class ToolController(QObject):
    """Current tool, class and sizes, and the gesture in progress."""

    class_picked = Signal(int)  # Alt+click eyedropper
    edit_finished = Signal()  # unused: the Document announces finished steps (``committed``)
    preview_changed = Signal()  # polygon / rectangle outline moved: canvas repaint
    settings_changed = Signal()  # tool or brush size changed (docks, cursor)
    edit_refused = Signal(str)  # a gesture on a document that accepts no edit: why (Document.lock)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.tool = Tool.BRUSH
        self.current_class = 1
        self.brush_size = 15  # diameter in image pixels
        self.fill_tolerance = 0  # 0: same label only; >0: also limited by image colour
        self.unpainted = 0  # what the eraser paints: background 0, or 255 (unlabelled) for scribbles
        self._stroking = False
        self._last: tuple[float, float] | None = None  # last brush point (for Shift lines)
        self._polygon: list[tuple[float, float]] = []
        self._rect_start: tuple[float, float] | None = None
        self._hover: tuple[float, float] | None = None
        self.assist = None  # AssistTools, set by the window: the GrabCut and wand gestures

    # --- state -----------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        self.cancel()
        self.document = document
        self._last = None
        if self.assist is not None:
            self.assist.set_document(document)
            if self.tool == Tool.SEGMENT:
                self.assist.segment.prepare()

    def set_tool(self, tool: Tool) -> None:
        if tool != self.tool:
            self.cancel()
            self.tool = Tool(tool)
            self.settings_changed.emit()
        if self.tool == Tool.SEGMENT and self.assist is not None:
            self.assist.segment.prepare()  # the image embedding takes seconds: start it now

    def set_brush_size(self, size: int) -> None:
        size = int(min(MAX_BRUSH, max(MIN_BRUSH, size)))
        if size != self.brush_size:
            self.brush_size = size
            self.settings_changed.emit()

    def grow_brush(self, factor: float) -> None:
        """``[`` / ``]``: change the size by ~20 %, at least one pixel."""
        step = max(1, round(abs(self.brush_size * (factor - 1))))
        self.set_brush_size(self.brush_size + (step if factor > 1 else -step))

    def cursor_radius(self) -> float | None:
        """Radius of the round cursor in image pixels (the true brush size), None for other tools."""
        if self.tool == Tool.GRABCUT and self.assist is not None and self.assist.has_proposal:
            return self.brush_size / 2  # refining strokes have the brush's size
        return self.brush_size / 2 if self.tool in BRUSH_LIKE else None

    def _assisted(self) -> bool:
        return self.tool in ASSISTED and self.assist is not None

    def _value(self) -> int:
        if self.tool == Tool.ERASER:
            return self.unpainted
        if self.tool == Tool.IGNORE:
            return IGNORE_INDEX
        return self.current_class

    def _radius(self) -> float:
        # drawing's radius r paints 2r - 1 pixels across.
        return (self.brush_size + 1) / 2

    @property
    def busy(self) -> bool:
        """True while a gesture is in progress (stroke, polygon, rectangle drag, assisted proposal)."""
        assisting = self._assisted() and self.assist.busy
        return self._stroking or bool(self._polygon) or self._rect_start is not None or assisting

    # --- events from the canvas --------------------------------------------------------------------
    def press(self, x: float, y: float, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        doc = self.document
        if doc is None:
            return
        if doc.locked:
            self.edit_refused.emit(doc.locked)
            return
        if modifiers & Qt.KeyboardModifier.AltModifier:
            self._pick(x, y)
            return
        if self._assisted():
            self.assist.brush_size = self.brush_size
            self.assist.press(self.tool.value, x, y, bool(modifiers & Qt.KeyboardModifier.ShiftModifier))
        elif self.tool in BRUSH_LIKE:
            self._stroking = True
            doc.begin_stroke()
            if modifiers & Qt.KeyboardModifier.ShiftModifier and self._last is not None:
                self._segment(self._last, (x, y))
            else:
                cx, cy = _centre(x, y)
                doc.brush(cx, cy, self._radius(), self._value())
            self._last = (x, y)
        elif self.tool == Tool.POLYGON:
            self._polygon.append((x, y))
            self.preview_changed.emit()
        elif self.tool == Tool.RECTANGLE:
            self._rect_start = (x, y)
            self._hover = (x, y)
        elif self.tool == Tool.FILL:
            self._fill(x, y)

    def move(self, x: float, y: float, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        self._hover = (x, y)
        if self._assisted():
            self.assist.move(self.tool.value, x, y)
        elif self._stroking and self.document is not None:
            self._segment(self._last or (x, y), (x, y))
            self._last = (x, y)
        elif self._polygon or self._rect_start is not None:
            self.preview_changed.emit()

    def release(self, x: float, y: float, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        doc = self.document
        if self._assisted():
            self.assist.release(self.tool.value, x, y)
        elif self._stroking and doc is not None:
            if self._last is not None and self._last != (x, y):
                self._segment(self._last, (x, y))
                self._last = (x, y)
            self._stroking = False
            doc.end_stroke()  # the document commits the stroke: autosave and counts follow
        elif self._rect_start is not None and doc is not None:
            (x0, y0), start = _centre(*self._rect_start), self._rect_start
            x1, y1 = _centre(x, y)
            self._rect_start = None
            if start != (x, y):
                doc.fill_rect(x0, y0, x1, y1, self._value())
            self.preview_changed.emit()

    def double_click(self, x: float, y: float, modifiers=Qt.KeyboardModifier.NoModifier) -> bool:
        """Double-click closes a polygon; returns False when the tool wants a plain press instead."""
        if self.tool == Tool.POLYGON:
            self.close_polygon()
            return True
        return False

    def key(self, key: int, shift: bool = False) -> bool:
        """Enter closes, Backspace removes the last vertex, Esc cancels; True when handled. With an
        assisted tool, Enter accepts its proposal (Shift+Enter: only into unpainted pixels)."""
        if self._assisted():
            return self.assist.key(key, self.current_class, shift, self.unpainted)
        if self.tool == Tool.POLYGON and self._polygon:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.close_polygon()
                return True
            if key == Qt.Key.Key_Backspace:
                self._polygon.pop()
                self.preview_changed.emit()
                return True
        if key == Qt.Key.Key_Escape and self.busy:
            self.cancel()
            return True
        return False

    # --- gestures --------------------------------------------------------------------------------
    def _segment(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        (x0, y0), (x1, y1) = _centre(*start), _centre(*end)
        self.document.brush_line(x0, y0, x1, y1, self._radius(), self._value())

    def _fill(self, x: float, y: float) -> None:
        cx, cy = _centre(x, y)
        tolerance = float(self.fill_tolerance) if self.fill_tolerance > 0 else None
        if tolerance is not None and self.document.image is None:
            tolerance = None
        self.document.flood(cx, cy, self._value(), tolerance)

    def _pick(self, x: float, y: float) -> None:
        doc = self.document
        ix, iy = int(math.floor(x)), int(math.floor(y))
        if 0 <= ix < doc.width and 0 <= iy < doc.height:
            self.class_picked.emit(int(doc.label[iy, ix]))

    def close_polygon(self) -> None:
        points = [_centre(x, y) for x, y in self._polygon]
        self._polygon = []
        self.preview_changed.emit()
        if len(points) >= 3 and self.document is not None:
            self.document.fill_polygon(points, self._value())

    def fill_unlabelled(self) -> bool:
        """Give every background pixel the current class (one undo step)."""
        if self.document is None:
            return False
        return self.document.fill_unlabelled(self.current_class, self.unpainted) is not None

    def cancel(self) -> None:
        """Abandon a polygon or rectangle in progress; a brush stroke in progress is closed."""
        if self._stroking and self.document is not None:
            self.document.end_stroke()
        self._stroking = False
        if self.assist is not None:
            self.assist.cancel()
        had_preview = bool(self._polygon) or self._rect_start is not None
        self._polygon = []
        self._rect_start = None
        if had_preview:
            self.preview_changed.emit()

    # --- preview drawing (widget coordinates) --------------------------------------------------
    def paint_preview(self, painter: QPainter, canvas) -> None:
        if self._assisted():
            self.assist.scale = canvas.scale
            self.assist.paint_preview(painter, canvas)
            return
        points: list[QPointF] = []
        closed = False
        if self._polygon:
            points = [canvas.image_to_widget(x, y) for x, y in self._polygon]
            if self._hover is not None:
                points.append(canvas.image_to_widget(*self._hover))
        elif self._rect_start is not None and self._hover is not None:
            (x0, y0), (x1, y1) = self._rect_start, self._hover
            points = [canvas.image_to_widget(px, py) for px, py in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
            closed = True
        if not points:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        polygon = QPolygonF(points)
        for colour, width in ((QColor(0, 0, 0, 200), 3), (QColor(255, 255, 0), 1)):
            painter.setPen(QPen(colour, width))
            painter.drawPolygon(polygon) if closed else painter.drawPolyline(polygon)
        painter.setBrush(QColor(255, 255, 0))
        for point in points[: len(self._polygon)]:
            painter.drawEllipse(point, 3, 3)
