"""The drawing surface: image, overlay layers, zoom, pan, brush cursor; repaints by rectangle.

A QAbstractScrollArea whose viewport paints with a custom paintEvent: only the exposed part of the
image is drawn, scaled by the painter (nearest neighbour when zoomed in, so single pixels are exact;
smooth when zoomed out, from a pre-shrunk copy so an 8000×6000 photo costs no more than the screen).
Mouse events in image coordinates go to ``self.tool`` (see canvas_tools.ToolController).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QFrame

from segstudio.core.geometry import Rect
from segstudio.gui.canvas.overlay_layer import OverlayLayer

MIN_SCALE = 0.01
MAX_SCALE = 64.0
ZOOM_STEP = 1.25
# The photo is drawn smoothly below 2× (at 1.5× nearest neighbour looks jagged) and with sharp,
# exact pixels from 2× up; the mask overlay is always drawn with exact pixels.
SMOOTH_BELOW = 2.0
BACKGROUND = QColor(60, 60, 64)


class Canvas(QAbstractScrollArea):
    """Shows one image with its overlay layers; maps between image and widget coordinates."""

    zoom_changed = Signal(float)
    cursor_moved = Signal(object)  # (x, y) image pixel or None when outside
    space_tapped = Signal()  # Space pressed and released without panning

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._rest_cursor = Qt.CursorShape.CrossCursor  # BusyCursor while a model works (set_working)
        self.viewport().setCursor(self._rest_cursor)
        self.tool = None  # ToolController or None
        self.layers: list[OverlayLayer] = []
        self._image: QImage | None = None
        self._pyramid: list[QImage] = []  # level k+1 = image shrunk by 2**(k+1)
        self._scale = 1.0
        self._fit_mode: str | None = "window"
        self._cursor: QPointF | None = None  # widget position of the mouse
        self._pan_from: QPoint | None = None
        self._space_down = False
        self._space_panned = False
        self.placeholder = "Open a folder with Ctrl+U, or drop one here"
        self.loading_text: str | None = None  # shown instead of the picture while the next image loads

    # --- content ---------------------------------------------------------------------------------
    def set_image(self, image: QImage | None, pyramid: list[QImage] | None = None, keep_view: bool = False) -> None:
        """Show ``image``; keeps the fit mode (or the zoom, with ``keep_view``) of the previous image."""
        same_size = self._image is not None and image is not None and image.size() == self._image.size()
        self._image = image
        self._pyramid = list(pyramid or [])
        if image is not None and not (keep_view and same_size):
            if self._fit_mode == "width":
                self.fit_width()
            elif self._fit_mode == "window" or self._image is None:
                self.fit_window()
        self._update_scrollbars()
        self.viewport().update()

    @property
    def image(self) -> QImage | None:
        return self._image

    def set_working(self, working: bool) -> None:
        """The busy cursor (an arrow with a clock: clicks still go through) while a model works for
        the image on screen, e.g. click to segment's image encoder; the cross again after."""
        self._rest_cursor = Qt.CursorShape.BusyCursor if working else Qt.CursorShape.CrossCursor
        if self._pan_from is None and not self._space_down:
            self.viewport().setCursor(self._rest_cursor)

    def set_loading(self, text: str | None) -> None:
        """Show ``text`` ("Loading x.jpg…") instead of the picture; None to stop.

        The old picture is not drawn meanwhile: it is not the image being named, and painting an
        8000×6000 picture with its overlay costs ~40 ms each time (A/D held down)."""
        if text != self.loading_text:
            self.loading_text = text
            self.viewport().update()

    def add_layer(self, layer: OverlayLayer, index: int | None = None) -> None:
        """Draw ``layer`` over the image (later layers on top); it repaints itself by rectangle."""
        layer.on_changed = self.update_image_rect
        self.layers.insert(len(self.layers) if index is None else index, layer)
        self.viewport().update()

    # --- coordinates -----------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    def _origin(self) -> QPointF:
        """Widget position of image pixel (0, 0)'s corner."""
        if self._image is None:
            return QPointF(0, 0)
        vw, vh = self.viewport().width(), self.viewport().height()
        cw, ch = self._image.width() * self._scale, self._image.height() * self._scale
        ox = (vw - cw) / 2 if cw <= vw else -self.horizontalScrollBar().value()
        oy = (vh - ch) / 2 if ch <= vh else -self.verticalScrollBar().value()
        return QPointF(ox, oy)

    def image_to_widget(self, x: float, y: float) -> QPointF:
        """Widget point of image coordinates (pixel (i, j) covers [i, i+1) × [j, j+1))."""
        origin = self._origin()
        return QPointF(origin.x() + x * self._scale, origin.y() + y * self._scale)

    def widget_to_image(self, point: QPointF) -> tuple[float, float]:
        origin = self._origin()
        return (point.x() - origin.x()) / self._scale, (point.y() - origin.y()) / self._scale

    def image_rect_to_widget(self, rect: Rect, margin: int = 2) -> QRect:
        top_left = self.image_to_widget(rect.x, rect.y)
        size = QPointF(rect.w * self._scale, rect.h * self._scale)
        return QRectF(top_left, top_left + size).toAlignedRect().adjusted(-margin, -margin, margin, margin)

    def update_image_rect(self, rect: Rect | None) -> None:
        """Schedule a repaint of the part of the widget that shows ``rect`` (None: everything)."""
        if rect is None:
            self.viewport().update()
        else:
            self.viewport().update(self.image_rect_to_widget(rect))

    # --- zoom ------------------------------------------------------------------------------------
    def set_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` keeping the image point under ``anchor`` (widget) in place."""
        self._fit_mode = None
        self._apply_scale(scale, anchor)

    def _apply_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        if self._image is None:
            return
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        if anchor is None:
            anchor = QPointF(self.viewport().width() / 2, self.viewport().height() / 2)
        ix, iy = self.widget_to_image(anchor)
        self._scale = scale
        self._update_scrollbars()
        self.horizontalScrollBar().setValue(round(ix * scale - anchor.x()))
        self.verticalScrollBar().setValue(round(iy * scale - anchor.y()))
        self.viewport().update()
        self.zoom_changed.emit(scale)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_scale(self._scale * factor, anchor)

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def zoom_original(self) -> None:
        self.set_scale(1.0)

    def fit_window(self) -> None:
        self._fit_mode = "window"
        if self._image is not None and not self._image.isNull():
            vw, vh = max(1, self.viewport().width()), max(1, self.viewport().height())
            self._apply_scale(min(vw / self._image.width(), vh / self._image.height()))

    def fit_width(self) -> None:
        self._fit_mode = "width"
        if self._image is not None and not self._image.isNull():
            bar = self.verticalScrollBar().sizeHint().width()
            self._apply_scale(max(1, self.viewport().width() - bar) / self._image.width())

    def _update_scrollbars(self) -> None:
        if self._image is None:
            for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
                bar.setRange(0, 0)
            return
        vw, vh = self.viewport().width(), self.viewport().height()
        cw, ch = math.ceil(self._image.width() * self._scale), math.ceil(self._image.height() * self._scale)
        self.horizontalScrollBar().setRange(0, max(0, cw - vw))
        self.verticalScrollBar().setRange(0, max(0, ch - vh))
        self.horizontalScrollBar().setPageStep(vw)
        self.verticalScrollBar().setPageStep(vh)
        self.horizontalScrollBar().setSingleStep(max(1, vw // 20))
        self.verticalScrollBar().setSingleStep(max(1, vh // 20))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        if self._fit_mode == "window":
            self.fit_window()
        elif self._fit_mode == "width":
            self.fit_width()
        else:
            self._update_scrollbars()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        self.viewport().update()

    # --- painting --------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self.viewport())
        exposed = event.rect()
        painter.fillRect(exposed, BACKGROUND)
        if self.loading_text:
            self._paint_loading(painter)
            return
        if self._image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        source = self._source_rect(exposed)
        if source.isEmpty():
            self._paint_cursor(painter)
            return
        origin = self._origin()
        painter.translate(origin)
        painter.scale(self._scale, self._scale)
        self._paint_image(painter, source)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        target = QRectF(source)
        for layer in self.layers:
            if layer.visible and layer.image is not None and layer.opacity > 0:
                painter.setOpacity(layer.opacity)
                painter.drawImage(target, layer.image, target)
        painter.setOpacity(1.0)
        painter.resetTransform()
        if self.tool is not None:
            self.tool.paint_preview(painter, self)
        self._paint_cursor(painter)

    def _paint_loading(self, painter: QPainter) -> None:
        """The name of the image being loaded in a box in the middle of the empty canvas."""
        rect = self.viewport().rect()
        metrics = painter.fontMetrics()
        box = metrics.boundingRect(self.loading_text).adjusted(-14, -8, 14, 8)
        box.moveCenter(rect.center())
        painter.fillRect(box, QColor(30, 30, 34, 220))
        painter.setPen(QColor(235, 235, 235))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.loading_text)

    def _source_rect(self, exposed: QRect) -> QRect:
        """The image pixels under the exposed widget rectangle (one pixel of slack each side)."""
        origin = self._origin()
        x0 = math.floor((exposed.left() - origin.x()) / self._scale) - 1
        y0 = math.floor((exposed.top() - origin.y()) / self._scale) - 1
        x1 = math.ceil((exposed.right() + 1 - origin.x()) / self._scale) + 1
        y1 = math.ceil((exposed.bottom() + 1 - origin.y()) / self._scale) + 1
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self._image.width(), x1), min(self._image.height(), y1)
        return QRect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def _paint_image(self, painter: QPainter, source: QRect) -> None:
        smooth = self._scale < SMOOTH_BELOW
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        level = 0
        if smooth and self._pyramid:
            level = min(len(self._pyramid), int(math.floor(math.log2(1.0 / self._scale))))
        if level == 0:
            painter.drawImage(QRectF(source), self._image, QRectF(source))
            return
        shrunk = self._pyramid[level - 1]
        fx = shrunk.width() / self._image.width()
        fy = shrunk.height() / self._image.height()
        src = QRectF(source.x() * fx, source.y() * fy, source.width() * fx, source.height() * fy)
        painter.drawImage(QRectF(source), shrunk, src)

    def _paint_cursor(self, painter: QPainter) -> None:
        radius = self.tool.cursor_radius() if self.tool is not None else None
        if self._cursor is None or radius is None or self._pan_from is not None:
            return
        ix, iy = self.widget_to_image(self._cursor)
        centre = self.image_to_widget(math.floor(ix) + 0.5, math.floor(iy) + 0.5)
        r = max(1.0, radius * self._scale)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
        painter.drawEllipse(centre, r, r)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
        painter.drawEllipse(centre, r, r)

    def _cursor_widget_rect(self) -> QRect | None:
        if self._cursor is None or self.tool is None or self.tool.cursor_radius() is None:
            return None
        r = self.tool.cursor_radius() * self._scale + self._scale + 4
        c = self._cursor
        return QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r).toAlignedRect()

    # --- events ----------------------------------------------------------------------------------
    def _image_point(self, event) -> tuple[float, float]:
        return self.widget_to_image(event.position())

    def event(self, event) -> bool:
        # Take Space before the window's "verify" shortcut so that Space+drag can pan.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Space:
            event.accept()
            return True
        return super().event(event)

    def viewportEvent(self, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Leave:
            self._move_cursor(None)
        return super().viewportEvent(event)

    def _move_cursor(self, point: QPointF | None) -> None:
        old = self._cursor_widget_rect()
        self._cursor = point
        new = self._cursor_widget_rect()
        for rect in (old, new):
            if rect is not None:
                self.viewport().update(rect)
        if point is None or self._image is None:
            self.cursor_moved.emit(None)
            return
        ix, iy = self.widget_to_image(point)
        inside = 0 <= ix < self._image.width() and 0 <= iy < self._image.height()
        self.cursor_moved.emit((int(ix), int(iy)) if inside else None)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_down):
            self._pan_from = event.position().toPoint()
            self._space_panned = self._space_down
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if button == Qt.MouseButton.LeftButton and self.tool is not None and self._image is not None:
            x, y = self._image_point(event)
            self.tool.press(x, y, event.modifiers())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            pos = event.position().toPoint()
            delta = pos - self._pan_from
            self._pan_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            return
        self._move_cursor(event.position())
        if self.tool is not None and self._image is not None:
            x, y = self._image_point(event)
            self.tool.move(x, y, event.modifiers())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(
                Qt.CursorShape.OpenHandCursor if self._space_down else self._rest_cursor
            )
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self._image is not None:
            x, y = self._image_point(event)
            self.tool.release(x, y, event.modifiers())

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self._image is not None:
            x, y = self._image_point(event)
            if not self.tool.double_click(x, y, event.modifiers()):
                self.tool.press(x, y, event.modifiers())

    def wheelEvent(self, event) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.zoom_by(ZOOM_STEP**steps, event.position())
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_down = True
                self._space_panned = False
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if self.tool is not None and self.tool.key(event.key(), shift):
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().setCursor(self._rest_cursor)
            if not self._space_panned:
                self.space_tapped.emit()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._space_down = False
        super().focusOutEvent(event)
