"""The mask layer: an OverlayLayer whose whole-image recolouring runs off the GUI thread.

Colouring a whole 8000×6000 map takes ~250 ms (numpy releases the GIL, so a worker thread really
runs beside the GUI). That happens when the colours change (recolour, visibility toggle), when a map
arrives without a ready overlay, and after a whole-map edit (class remap, accepted prediction, undo
of one). Small rectangles (a brush dab) are still coloured at once, in place.

While a full recolour runs the old picture stays on screen; edits made meanwhile are coloured into
it as usual and remembered, and once the new buffer arrives those rectangles are coloured again into
it (the worker may have read their pixels before or after the edit), then it replaces the old one.
Only the latest job is used; requests made while one runs are merged into one follow-up job.

The work runs on a pool the owner gives (the window's "colour" pool, gui.workers.background), so it
is shut down with the window's other pools instead of living on in a class-level executor.
"""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
from PySide6.QtGui import QImage

from segstudio.core import overlay
from segstudio.core.geometry import Rect
from segstudio.core.overlay import colour_buffer
from segstudio.gui.canvas.overlay_layer import _FORMAT, OverlayLayer, rgba_to_native
from segstudio.gui.workers.background import BackgroundPool

SYNC_PIXELS = 2_000_000  # at most ~10 ms of colouring on the GUI thread; bigger areas go to a worker


class MaskLayer(OverlayLayer):
    """Mask overlay with asynchronous full recolouring (see module doc)."""

    def __init__(self, pool: BackgroundPool, name: str = "mask", opacity: float = 0.5) -> None:
        super().__init__(name, opacity)
        self._pool = pool  # whole-map recolouring; answers come back on the GUI thread
        self._job_id = 0
        self._running: Future | None = None
        self._again = False  # another full recolour was asked for while one ran
        self._touched: Rect | None = None  # edited since the running job started

    @property
    def recolouring(self) -> bool:
        """True while a full recolour runs."""
        return self._running is not None

    # --- sources -----------------------------------------------------------------------------------
    def set_lut(self, rgba_lut: np.ndarray) -> None:
        self._lut = rgba_to_native(np.asarray(rgba_lut, dtype=np.uint8).reshape(256, 4))
        if self._label is not None:
            self.update_rect(None)

    def set_label(self, label: np.ndarray | None, prepared: np.ndarray | None = None) -> None:
        self._job_id += 1  # a job for the previous map is of no use any more
        self._again = False
        self._touched = None
        if label is not None and prepared is None and label.size > SYNC_PIXELS:
            self._buffer = None  # a fresh (lazily zeroed) buffer: never the previous map's colours
        super().set_label(label, prepared)

    def set_rgba(self, rgba: np.ndarray | None) -> None:
        self._job_id += 1
        super().set_rgba(rgba)

    # --- updates -----------------------------------------------------------------------------------
    def update_rect(self, rect: Rect | None) -> None:
        if self._label is None or self._buffer is None:
            return
        height, width = self._label.shape
        if rect is not None:
            rect = rect.clip(width, height)
            if rect.is_empty:
                return
        area = height * width if rect is None else rect.w * rect.h
        if area > SYNC_PIXELS:
            self._start_full()
            return
        if self._running is not None:
            self._touched = rect if self._touched is None else self._touched.union(rect)
        super().update_rect(rect)

    def _start_full(self) -> None:
        if self._running is not None:
            self._again = True
            return
        self._job_id += 1
        job, label, lut = self._job_id, self._label, self._lut.copy()
        self._touched = None
        self._again = False
        future = self._pool.submit(colour_buffer, label, lut, on_done=lambda f: self._job_done(job, label, f))
        if not future.cancelled():  # (cancelled at once: the window is closing, the old colours stay)
            self._running = future

    def _job_done(self, job: int, label: np.ndarray, future: Future) -> None:
        if future is self._running:
            self._running = None
        if job == self._job_id and label is self._label and not future.cancelled() and future.exception() is None:
            self._swap(future.result())
        if self._again and self._label is not None:
            self._start_full()

    def _swap(self, buffer: np.ndarray) -> None:
        """Use the freshly coloured buffer, recolouring what was edited while it was made."""
        height, width = self._label.shape
        if self._touched is not None:
            rect = self._touched.clip(width, height)
            if not rect.is_empty:
                buffer[rect.slices] = overlay.colourize(self._label, self._lut, rect)
            self._touched = None
        self._buffer = buffer
        self.image = QImage(buffer.data, width, height, width * 4, _FORMAT)
        self._notify(None)
