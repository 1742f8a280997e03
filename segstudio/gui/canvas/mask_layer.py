"""The mask layer: an OverlayLayer whose whole-image recolouring runs off the GUI thread.

Colouring a whole 8000×6000 map takes ~250 ms (numpy releases the GIL, so a worker thread really
runs beside the GUI). That happens when the colours change (recolour, visibility toggle), when a map
arrives without a ready overlay, and after a whole-map edit (class remap, accepted prediction, undo
of one). Small rectangles (a brush dab) are still coloured at once, in place.

While a full recolour runs the old picture stays on screen; edits made meanwhile are coloured into
it as usual and remembered, and once the new buffer arrives those rectangles are coloured again into
it (the worker may have read their pixels before or after the edit), then it replaces the old one.
Only the latest job is used; requests made while one runs are merged into one follow-up job.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from segstudio.core import overlay
from segstudio.core.geometry import Rect

from segstudio.gui.canvas.overlay_layer import _FORMAT, OverlayLayer, colour_buffer, rgba_to_native

SYNC_PIXELS = 2_000_000  # at most ~10 ms of colouring on the GUI thread; bigger areas go to a worker


class _Bridge(QObject):
    done = Signal(object)  # (job id, label, future) from the worker thread


class MaskLayer(OverlayLayer):
    """Mask overlay with asynchronous full recolouring (see module doc)."""

    _executor: ThreadPoolExecutor | None = None

    def __init__(self, name: str = "mask", opacity: float = 0.5) -> None:
        super().__init__(name, opacity)
        self._bridge = _Bridge()
        self._bridge.done.connect(self._job_done)
        self._job_id = 0
        self._running: Future | None = None
        self._again = False  # another full recolour was asked for while one ran
        self._touched: Rect | None = None  # edited since the running job started

    @classmethod
    def _pool(cls) -> ThreadPoolExecutor:
        if cls._executor is None:
            cls._executor = ThreadPoolExecutor(1, thread_name_prefix="segstudio-colour")
        return cls._executor

    @property
    def recolouring(self) -> bool:
        """True while a full recolour runs (tests wait for it)."""
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
        future = self._pool().submit(colour_buffer, label, lut)
        self._running = future
        future.add_done_callback(lambda f: self._bridge.done.emit((job, label, f)))

    def _job_done(self, result) -> None:
        job, label, future = result
        if future is self._running:
            self._running = None
        if job == self._job_id and label is self._label and future.exception() is None:
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

    def wait(self, timeout: float = 10.0) -> None:
        """Block until a running recolour is done and delivered (tests, benchmarks)."""
        from PySide6.QtCore import QCoreApplication

        while self._running is not None:
            try:
                self._running.result(timeout)
            except Exception:
                pass
            QCoreApplication.processEvents()
