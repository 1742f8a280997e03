"""The assisted tools on the canvas: GrabCut (G) and the magic wand (W), both previewed first.

GrabCut: drag a box around an object; OpenCV proposes the object's mask (on a worker thread, so a
large photo never freezes the window). Strokes then refine it: a plain drag marks "object", a
Shift+drag marks "background", and GrabCut runs again with those hard constraints. The magic wand:
click a pixel and the region of similar colour is proposed; drag right or left while the button is
down to raise or lower the tolerance of that proposal (each click starts again at the tolerance shown
in Tool options, so a wide drag never carries over to the next click). Either way Enter accepts the
proposal into the current class as ONE undo step (Shift+Enter: only into the pixels still unpainted,
like accepting a prediction's "only unlabelled pixels") and Esc drops it; nothing touches the mask
before Enter.

The proposal is shown in a layer of its own (cyan, outlined in yellow) above the mask; click to
segment's hover preview, in the same layer while there is no proposal, is outlined in yellow over a
fainter cyan. The pixel
work is in :mod:`segstudio.core.assist`; this module only turns gestures into calls and answers
into pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen

from segstudio.application.review.review_rules import AcceptMode, accepted_label
from segstudio.core.assist.grabcut import GrabCutResult, clip_box, grabcut_box, grabcut_refine
from segstudio.core.assist.preview import bounding_rect, proposal_map, stroke_mask
from segstudio.core.assist.wand import WandSession
from segstudio.core.document import Document
from segstudio.core.overlay import colour_buffer
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.canvas.overlay_layer import OverlayLayer
from segstudio.gui.canvas.segment_tool import SegmentTool

GRABCUT, WAND, SEGMENT = "grabcut", "wand", "segment"
DEFAULT_TOLERANCE = 24
TOLERANCE_PER_SCREEN_PIXEL = 0.5  # a 100-pixel drag changes the wand's tolerance by 50
PREVIEW_COLOURS = {1: (0, 220, 255, 120), 2: (255, 235, 0, 255),  # proposal: inside, outline
                   3: (0, 220, 255, 45), 4: (255, 235, 0, 255)}  # hover preview: inside, outline
HOVER_SHIFT = 2  # a hover map's values: proposal_map's plus this
STROKE_COLOURS = {True: QColor(0, 255, 120, 200), False: QColor(255, 60, 60, 200)}  # object, background


@dataclass
class _Stroke:
    """A refining stroke in image coordinates."""

    points: list[tuple[float, float]]
    foreground: bool


def preview_lut() -> np.ndarray:
    """(256, 4) straight RGBA colours of the proposal layer's values."""
    lut = np.zeros((256, 4), np.uint8)
    for value, colour in PREVIEW_COLOURS.items():
        lut[value] = colour
    return lut


class AssistTools(QObject):
    """Gesture state of the GrabCut and wand tools, and the proposal they show."""

    message = Signal(str)  # one line for the status bar
    preview_changed = Signal()  # box or stroke outline moved: the canvas repaints its preview
    accepted = Signal()  # a proposal went into the mask (one undo step)

    def __init__(self, pool, segment_pool=None, parent: QObject | None = None, ahead_pool=None) -> None:
        super().__init__(parent)
        self._pool = pool  # a BackgroundPool: GrabCut runs there
        # Click to segment: its model runs on a pool of its own (an embedding takes seconds), and
        # the next image's embedding on another (ahead_pool), so a click never waits behind it.
        self.segment = SegmentTool(segment_pool or pool, self._set_proposal, self, ahead_pool,
                                   outline=self._set_hover, hover_picture=self._hover_picture)
        self.segment.message.connect(self.message)
        self.layer = OverlayLayer("assist preview", opacity=1.0)
        self.layer.set_lut(preview_lut())
        self.document: Document | None = None
        self.scale = 1.0  # canvas zoom (screen pixels per image pixel), for the wand's drag
        self.brush_size = 15
        # Each click of the wand starts at ``wand_tolerance`` (Tool options shows and edits it); a
        # drag changes ``shown_tolerance``, the proposal's own, which Esc and the next click forget.
        self.wand_tolerance = DEFAULT_TOLERANCE
        self.shown_tolerance = DEFAULT_TOLERANCE
        self._proposal: np.ndarray | None = None  # (H, W) bool
        self._grabcut: GrabCutResult | None = None
        self._box_start: tuple[float, float] | None = None
        self._hover: tuple[float, float] | None = None
        self._stroke: _Stroke | None = None
        self._wand: WandSession | None = None
        self._wand_drag: tuple[float, int] | None = None  # (press x, tolerance at press)
        self._job = 0  # bumped to forget answers of GrabCut runs that no longer matter
        self.running = False

    # --- state -----------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        self.cancel()
        self.document = document
        self.segment.set_image(None if document is None else document.image)

    @property
    def has_proposal(self) -> bool:
        return self._proposal is not None

    @property
    def busy(self) -> bool:
        return self.running or self.has_proposal or self._box_start is not None or self._stroke is not None

    def proposal(self) -> np.ndarray | None:
        """The proposed region, (H, W) bool, or None."""
        return self._proposal

    # --- events (image coordinates) --------------------------------------------------------------
    def press(self, tool: str, x: float, y: float, shift: bool) -> None:
        if self.document is None or self.document.image is None:
            self.message.emit("This image has no pixels loaded for the assisted tools")
            return
        if tool == WAND:
            self._start_wand(x, y)
        elif tool == SEGMENT:
            self.segment.press(x, y, shift)
        elif self.running:
            self.message.emit("GrabCut is still working…")
        elif self._grabcut is not None:
            self._stroke = _Stroke([(x, y)], foreground=not shift)
            self.preview_changed.emit()
        else:
            self._box_start = self._hover = (x, y)

    def move(self, tool: str, x: float, y: float) -> None:
        self._hover = (x, y)
        if tool == SEGMENT:
            self.segment.hover(x, y)
        if tool == WAND and self._wand_drag is not None:
            start_x, start_tolerance = self._wand_drag
            tolerance = start_tolerance + (x - start_x) * self.scale * TOLERANCE_PER_SCREEN_PIXEL
            self._show_wand(int(np.clip(round(tolerance), 0, 255)))
        elif self._stroke is not None:
            self._stroke.points.append((x, y))
            self.preview_changed.emit()
        elif self._box_start is not None:
            self.preview_changed.emit()

    def release(self, tool: str, x: float, y: float) -> None:
        if tool == WAND:
            self._wand_drag = None
            return
        if tool == SEGMENT:
            self.segment.release(x, y)
            return
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            stroke.points.append((x, y))
            self.preview_changed.emit()
            self._refine(stroke)
        elif self._box_start is not None:
            (x0, y0), self._box_start = self._box_start, None
            self.preview_changed.emit()
            self._start_grabcut((x0, y0, x, y))

    def key(self, key: int, value: int, shift: bool = False, unpainted: int = 0) -> bool:
        """Enter accepts the proposal as label ``value`` (Shift+Enter: only into the ``unpainted``
        pixels, 0 or 255 in a scribble project), Esc drops it; True when handled."""
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.has_proposal:
            self.accept(value, unpainted if shift else None)
            return True
        if key == Qt.Key.Key_N and self.segment.next_candidate():
            return True
        if key == Qt.Key.Key_Escape and self.busy:
            self.cancel()
            self.message.emit("Proposal dropped")
            return True
        return False

    # --- accept / cancel -------------------------------------------------------------------------
    def accept(self, value: int, unpainted: int | None = None) -> bool:
        """Write the proposal into the mask as label ``value`` (the current class): one undo step.

        With ``unpainted`` (0, or 255 in a scribble project) only the pixels still unpainted take it,
        by the rule that accepting a prediction follows (``review_rules.accepted_label``)."""
        if self._proposal is None or self.document is None:
            return False
        rect = bounding_rect(self._proposal)
        if rect is None:
            self.cancel()
            return False
        where = self._proposal[rect.slices]
        if unpainted is not None:
            where = _unpainted_part(self.document.label[rect.slices], where, value, unpainted)
        changed = self.document.paint(rect, where, value)
        self.cancel()
        if changed is not None:
            self.accepted.emit()
        only = " (only the unpainted pixels)" if unpainted is not None else ""
        self.message.emit(f"Accepted{only}: one undo step (Ctrl+Z)" if changed is not None else "Nothing to change")
        return changed is not None

    def cancel(self) -> None:
        """Drop the proposal and any gesture or GrabCut run in progress."""
        self._job += 1
        self.running = False
        self._grabcut = None
        self._wand = None
        self._wand_drag = None
        self.shown_tolerance = self.wand_tolerance
        self._box_start = None
        self._stroke = None
        self.segment.reset()
        self._set_proposal(None)
        self.preview_changed.emit()

    # --- GrabCut ---------------------------------------------------------------------------------
    def _start_grabcut(self, box: tuple[float, float, float, float]) -> None:
        doc = self.document
        x0, y0, x1, y1 = clip_box((box[0], box[1], box[2], box[3]), doc.width, doc.height)
        if x1 - x0 < 3 or y1 - y0 < 3:
            self.message.emit("GrabCut: drag a box around the object")
            return
        self._submit(grabcut_box, doc.image, (x0, y0, x1, y1))

    def _refine(self, stroke: _Stroke) -> None:
        doc = self.document
        marks = stroke_mask(doc.height, doc.width, stroke.points, max(1, self.brush_size // 2))
        fg, bg = (marks, None) if stroke.foreground else (None, marks)
        self._submit(grabcut_refine, doc.image, self._grabcut, fg, bg)

    def _submit(self, fn, *args) -> None:
        self._job += 1
        job, document = self._job, self.document
        self.running = True
        self.message.emit("GrabCut is working…")
        self._pool.submit(fn, *args, on_done=lambda future: self._grabcut_done(job, document, future))

    def _grabcut_done(self, job: int, document: Document | None, future) -> None:
        if job != self._job or document is not self.document:
            return  # cancelled, or the image changed meanwhile
        self.running = False
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self.message.emit(f"GrabCut failed: {error}")
            return
        result: GrabCutResult = future.result()
        self._grabcut = result
        self._set_proposal(result.mask)
        why = f" ({result.fallback})" if result.fallback else ""
        self.message.emit(
            f"GrabCut proposal in {result.seconds:.2f} s{why}: drag to mark object, Shift+drag background;"
            " Enter accepts, Esc drops"
        )

    # --- magic wand ------------------------------------------------------------------------------
    def _start_wand(self, x: float, y: float) -> None:
        doc = self.document
        ix, iy = int(np.floor(x)), int(np.floor(y))
        if not (0 <= ix < doc.width and 0 <= iy < doc.height):
            return
        self._job += 1
        self._grabcut = None
        self._wand = WandSession(doc.image, (ix, iy))
        self._wand_drag = (x, self.wand_tolerance)  # every click starts from the Tool options' value
        self._show_wand(self.wand_tolerance)

    def _show_wand(self, tolerance: int) -> None:
        if self._wand is None:
            return
        self.shown_tolerance = tolerance
        region = self._wand.region(tolerance)
        self._set_proposal(region)
        self.message.emit(
            f"Wand: {int(region.sum()):,} pixels at tolerance {tolerance} (drag sideways to change; each "
            f"click starts at {self.wand_tolerance}, Tool options); Enter accepts, Esc drops"
        )

    # --- preview ---------------------------------------------------------------------------------
    def show_region(self, region: np.ndarray) -> None:
        """Outline ``region`` (a clean-up's changed pixels) until :meth:`cancel`."""
        self._set_proposal(region)

    def _set_proposal(self, mask: np.ndarray | None) -> None:
        self._proposal = None if mask is None else np.asarray(mask, bool)
        if mask is None:
            self.layer.clear()
        else:
            self.layer.set_label(proposal_map(self._proposal))

    def _hover_picture(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(label map, coloured layer) of a hover preview: made on the worker that decoded it, so
        that showing a 12-megapixel outline costs the GUI thread no recolouring."""
        label = proposal_map(mask)
        label[label > 0] += HOVER_SHIFT
        return label, colour_buffer(label, self.layer.native_lut)

    def _set_hover(self, picture: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Show (or, None, hide) click to segment's hover preview; a proposal shown stays."""
        if self._proposal is not None:
            return
        if picture is None:
            self.layer.clear()
        else:
            self.layer.set_label(*picture)

    def paint_preview(self, painter: QPainter, canvas) -> None:
        """The GrabCut box being dragged and the refining stroke, in widget coordinates."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._box_start is not None and self._hover is not None:
            a, b = canvas.image_to_widget(*self._box_start), canvas.image_to_widget(*self._hover)
            for colour, width in ((QColor(0, 0, 0, 200), 3), (QColor(0, 220, 255), 1)):
                painter.setPen(QPen(colour, width, Qt.PenStyle.DashLine))
                painter.drawRect(QRectF(a, b).normalized())
        if self._stroke is not None and self._stroke.points:
            pen = QPen(STROKE_COLOURS[self._stroke.foreground], max(2.0, self.brush_size * canvas.scale))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            points = [canvas.image_to_widget(x, y) for x, y in self._stroke.points]
            if len(points) == 1:
                points.append(QPointF(points[0]))
            painter.drawPolyline(points)


def _unpainted_part(region: np.ndarray, proposal: np.ndarray, value: int, unpainted: int) -> np.ndarray:
    """The pixels of ``proposal`` that accepting "only unlabelled pixels" would give ``value``."""
    prediction = np.where(proposal, np.uint8(value), np.uint8(IGNORE_INDEX))
    return accepted_label(region, prediction, AcceptMode.UNLABELLED, value, unpainted) != region
