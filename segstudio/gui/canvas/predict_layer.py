"""The prediction overlay: a second canvas layer with its own opacity, view modes and "accept".

View modes: the mask only, the prediction only, both, or the error map of prediction against the
painted mask (``core.overlay.error_map``), optionally restricted to one class (the review table
selects it). What it shows is the window's ReviewController's prediction (already in the project's
classes); accepting it into the mask is the controller's too.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from segstudio.application.review.review_rules import class_error_map
from segstudio.core import overlay
from segstudio.core.document import Document
from segstudio.core.geometry import Rect
from segstudio.gui.canvas.canvas import Canvas
from segstudio.gui.canvas.overlay_layer import OverlayLayer
from segstudio.gui.docks.error_legend import ErrorLegend


class ViewMode(enum.Enum):
    MASK = "Mask only"
    PREDICTION = "Prediction only"
    BOTH = "Mask and prediction"
    ERRORS = "Error map"


class PredictionLayer(QObject):
    """Owns the prediction layer of the canvas and the current image's prediction."""

    changed = Signal()  # prediction, mode or highlighted class changed (review dock refreshes)

    def __init__(self, canvas: Canvas, show_mask: QAction, document: Callable[[], Document | None],
                 parent: QObject | None = None) -> None:
        """``show_mask``: the window's toggle of the mask layer (kept in step with the view);
        ``document``: the document on screen."""
        super().__init__(parent)
        self.canvas, self.show_mask, self.document = canvas, show_mask, document
        self.layer = OverlayLayer("prediction", opacity=0.6)
        canvas.add_layer(self.layer)
        self.mode = ViewMode.BOTH
        self.shown = True
        self.highlight: int | None = None
        self.highlight_name: str | None = None
        self.legend = ErrorLegend(canvas.viewport())
        self.legend.clear_filter.connect(lambda: self.set_highlight(None))
        self._outline: tuple[np.ndarray, np.ndarray] | None = None  # (labels, their outline)
        self.labels: np.ndarray | None = None  # in project class indices, for the shown image
        self._errors_shown = False  # the layer holds the error map of the labels and the mask
        self.layer.visible = False

    # --- content ---------------------------------------------------------------------------------
    def set_labels(self, labels: np.ndarray) -> None:
        """Show ``labels``: the prediction of the image on screen in the project's classes."""
        self.labels = labels
        self.refresh()

    def clear(self) -> None:
        self.labels = None
        self._errors_shown = False
        self.layer.clear()
        self.layer.visible = False
        self.changed.emit()

    @property
    def available(self) -> bool:
        document = self.document()
        return self.labels is not None and document is not None and document.label.shape == self.labels.shape

    def set_lut(self, rgba_lut: np.ndarray) -> None:
        self.layer.set_lut(rgba_lut)

    # --- view ------------------------------------------------------------------------------------
    def set_mode(self, mode: ViewMode) -> None:
        self.mode = mode
        if mode is not ViewMode.ERRORS:
            self.highlight, self.highlight_name = None, None
        self.refresh()

    def cycle_mode(self) -> ViewMode:
        modes = list(ViewMode)
        self.set_mode(modes[(modes.index(self.mode) + 1) % len(modes)])
        return self.mode

    def set_shown(self, shown: bool) -> None:
        self.shown = bool(shown)
        self.refresh()

    def set_opacity(self, opacity: float) -> None:
        self.layer.opacity = max(0.0, min(1.0, float(opacity)))
        self.canvas.viewport().update()

    def set_highlight(self, class_index: int | None, name: str | None = None) -> None:
        """Show the errors of one class (None: all classes) in the error map."""
        self.highlight = class_index
        self.highlight_name = name if class_index is not None else None
        self.mode = ViewMode.ERRORS
        self.refresh()

    def refresh(self) -> None:
        """Apply the mode: which layers are visible and what the prediction layer shows."""
        show = self.available and self.shown and self.mode is not ViewMode.MASK
        # With the prediction hidden (T), the mask comes back whatever the view: never a bare photo.
        mask_visible = self.mode in (ViewMode.MASK, ViewMode.BOTH) or not show
        if self.show_mask.isChecked() != mask_visible:
            self.show_mask.setChecked(mask_visible)  # the window's own toggle keeps its state in step
        if show and self.mode is ViewMode.ERRORS:
            self._refresh_errors()
        elif show:
            shown = self._outlined() if self.mode is ViewMode.BOTH else self.labels
            if self.layer.label is not shown:
                self.layer.set_label(shown)
            self._errors_shown = False
        self.layer.visible = show
        if show and self.mode is ViewMode.ERRORS:
            self.legend.show_for(self.highlight_name)
        else:
            self.legend.hide()
        self.canvas.viewport().update()
        self.changed.emit()

    def _outlined(self) -> np.ndarray:
        """The prediction as outlines (the "both" view keeps the painted mask readable), cached."""
        if self._outline is None or self._outline[0] is not self.labels:
            self._outline = (self.labels, overlay.outline(self.labels))
        return self._outline[1]

    def mask_edited(self, rect: Rect) -> None:
        """The mask changed under ``rect`` (the edit feed's throttled union): the error map is
        redrawn there only."""
        document = self.document()
        if self.mode is ViewMode.ERRORS and self.available and self._errors_shown and document is not None:
            rect = rect.clip(document.width, document.height)
            if not rect.is_empty and self.labels is not None:
                errors = class_error_map(self.labels[rect.slices], document.label[rect.slices], self.highlight,
                                         (rect.x, rect.y))
                self.layer.set_rgba_rect(rect, errors)
        self.changed.emit()

    def _refresh_errors(self) -> None:
        document = self.document()
        if not self.available or document is None or self.labels is None:
            return
        self.layer.set_rgba(class_error_map(self.labels, document.label, self.highlight))
        self._errors_shown = True
