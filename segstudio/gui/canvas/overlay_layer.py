"""A colour layer drawn over the image: a QImage the size of the image, updated by rectangle.

The QImage shares memory with a numpy array, so an edit recolours only its changed rectangle
(``core.overlay.colourize`` on that rectangle, copied into the array) and the canvas repaints only
that rectangle. The mask layer uses it; a prediction or error-map layer is simply another instance
added to the canvas (``Canvas.add_layer``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
from PySide6.QtGui import QImage

from segstudio.core import overlay
from segstudio.core.geometry import Rect
from segstudio.core.overlay import colour_buffer

# ARGB32_Premultiplied is the raster engine's native format: no conversion when painting.
# In memory it is B, G, R, A on little-endian machines.
_FORMAT = QImage.Format.Format_ARGB32_Premultiplied
_CHANNELS = [2, 1, 0, 3] if sys.byteorder == "little" else [3, 0, 1, 2]


def rgba_to_native(rgba: np.ndarray) -> np.ndarray:
    """Convert straight-alpha RGBA rows (..., 4) to premultiplied native ARGB32 byte order."""
    rgba = np.asarray(rgba, dtype=np.uint8)
    alpha = rgba[..., 3:4].astype(np.uint16)
    premult = (rgba[..., :3].astype(np.uint16) * alpha + 127) // 255
    full = np.concatenate([premult.astype(np.uint8), rgba[..., 3:4]], axis=-1)
    return np.ascontiguousarray(full[..., _CHANNELS])


class OverlayLayer:
    """One overlay over the image: label map + colour table, or a ready RGBA array."""

    def __init__(self, name: str, opacity: float = 0.5) -> None:
        self.name = name
        self.opacity = opacity
        self.visible = True
        self.on_changed: Callable[[Rect | None], None] | None = None  # set by the canvas
        self.image: QImage | None = None
        self._buffer: np.ndarray | None = None
        self._label: np.ndarray | None = None
        self._lut = np.zeros((256, 4), dtype=np.uint8)  # native premultiplied colours

    # --- sources ---------------------------------------------------------------------------------
    def set_lut(self, rgba_lut: np.ndarray) -> None:
        """Colours per label value as (256, 4) straight RGBA; recolours the whole layer."""
        self._lut = rgba_to_native(np.asarray(rgba_lut, dtype=np.uint8).reshape(256, 4))
        if self._label is not None:
            self.update_rect(None)

    @property
    def native_lut(self) -> np.ndarray:
        """The colour table in the QImage's byte order (for :func:`colour_buffer` in a loader)."""
        return self._lut

    def set_label(self, label: np.ndarray | None, prepared: np.ndarray | None = None) -> None:
        """Show ``label`` (kept by reference: later edits are picked up by :meth:`update_rect`).

        ``prepared`` is the layer already coloured with :attr:`native_lut` (by a loader thread),
        which saves recolouring a large map in the GUI thread.
        """
        self._label = label
        if label is None:
            self._buffer = None
            self.image = None
            self._notify(None)
            return
        height, width = label.shape
        if prepared is not None and prepared.shape == (height, width, 4) and prepared.flags.c_contiguous:
            self._buffer = prepared
            self.image = QImage(prepared.data, width, height, width * 4, _FORMAT)
            self._notify(None)
            return
        self._allocate(width, height)
        self.update_rect(None)

    def set_rgba(self, rgba: np.ndarray | None) -> None:
        """Show a ready straight-alpha RGBA picture (an error map, a confidence map)."""
        self._label = None
        if rgba is None:
            self._buffer = None
            self.image = None
            self._notify(None)
            return
        self._allocate(rgba.shape[1], rgba.shape[0])
        self._buffer[:] = rgba_to_native(rgba)
        self._notify(None)

    def set_rgba_rect(self, rect: Rect, rgba: np.ndarray) -> None:
        """Replace the pixels under ``rect`` of a picture shown with :meth:`set_rgba` (an error map
        redrawn where the mask was edited) and tell the canvas."""
        if self._buffer is None or self._label is not None:
            return
        rect = rect.clip(self._buffer.shape[1], self._buffer.shape[0])
        if rect.is_empty:
            return
        self._buffer[rect.slices] = rgba_to_native(rgba)
        self._notify(rect)

    def clear(self) -> None:
        self.set_label(None)

    @property
    def label(self) -> np.ndarray | None:
        return self._label

    # --- updates ---------------------------------------------------------------------------------
    def update_rect(self, rect: Rect | None) -> None:
        """Recolour ``rect`` (None: everything) from the label map and tell the canvas."""
        if self._label is None or self._buffer is None:
            return
        height, width = self._label.shape
        if rect is None:
            colour_buffer(self._label, self._lut, self._buffer)
            self._notify(None)
            return
        rect = rect.clip(width, height)
        if rect.is_empty:
            return
        overlay.colourize(self._label, self._lut, rect, out=self._buffer[rect.slices])
        self._notify(rect)

    def _allocate(self, width: int, height: int) -> None:
        if self._buffer is None or self._buffer.shape[:2] != (height, width):
            self._buffer = np.zeros((height, width, 4), dtype=np.uint8)
            self.image = QImage(self._buffer.data, width, height, width * 4, _FORMAT)

    def _notify(self, rect: Rect | None) -> None:
        if self.on_changed is not None:
            self.on_changed(rect)
