"""Hover preview of click to segment: the mask under the cursor, decoded before any click.

The rule, in one place, without Qt: a hover is decoded only once the image is embedded (before,
the decoder would wait seconds behind the encoder), only ``DELAY_MS`` after the cursor stopped (a
sweep across the image decodes nothing on its way), only the latest point (the ones passed over
are forgotten), and never while another hover decode is in flight (the point wanted meanwhile is
decoded when that one answers). A click at the point whose mask is shown takes that answer
(:meth:`HoverPreview.take`) instead of decoding it again. The window gives a pool and a timer
factory (``application.pools``); tests give :class:`~segstudio.application.pools.QueuedPools`
and :class:`~segstudio.application.pools.ManualTimer`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from segstudio.application.pools import Pool, TimerFactory

DELAY_MS = 100  # the cursor rests this long before its mask is decoded (X-AnyLabeling's choice too)

T = TypeVar("T")
Point = tuple[float, float]


def same_pixel(a: Point, b: Point) -> bool:
    """True when two image points fall in the same pixel (pixel i spans [i, i+1))."""
    return math.floor(a[0]) == math.floor(b[0]) and math.floor(a[1]) == math.floor(b[1])


class HoverPreview(Generic[T]):
    """Debounced, latest-only hover decodes; see the module docstring.

    ``decode(point)`` runs on ``pool`` (a worker); ``show(point, answer)`` on the owner's thread,
    ``show(None, None)`` when the shown answer no longer stands (:meth:`stop`).
    """

    def __init__(self, pool: Pool, timer: TimerFactory, decode: Callable[[Point], T],
                 show: Callable[[Point | None, T | None], None], delay_ms: int = DELAY_MS) -> None:
        self._pool = pool
        self._decode = decode
        self._show = show
        self._timer = timer(delay_ms, self._fire)
        self._ready = False
        self._wanted: Point | None = None  # the latest hovered point, not decoded yet
        self._in_flight = False
        self._generation = 0  # bumped by stop(): answers of older generations are not shown
        self.shown: tuple[Point, T] | None = None

    @property
    def ready(self) -> bool:
        """True while hovers are decoded (the image is embedded and the tool wants them)."""
        return self._ready

    @property
    def in_flight(self) -> bool:
        """True while a hover decode runs (at most one)."""
        return self._in_flight

    def set_ready(self, ready: bool) -> None:
        """Start (True) or stop (False) decoding hovers; stopping forgets and hides the preview."""
        if not ready:
            self.stop()
        self._ready = ready

    def hover(self, x: float, y: float) -> None:
        """The cursor is at image point (x, y): decode it once it rests there."""
        if not self._ready:
            return
        if self.shown is not None and same_pixel(self.shown[0], (x, y)) and not self._in_flight:
            self._wanted = None  # still (or back) on the pixel shown: nothing to decode
            self._timer.stop()
            return
        self._wanted = (x, y)
        self._timer.start()  # restarts: the delay counts from the last move

    def stop(self) -> None:
        """Forget the wanted point and hide the preview (the cursor left, a click, another tool)."""
        self._generation += 1
        self._timer.stop()
        self._wanted = None
        if self.shown is not None:
            self.shown = None
            self._show(None, None)

    def take(self, x: float, y: float) -> tuple[Point, T] | None:
        """The shown (point, answer) when (x, y) falls on its pixel, else None; a click uses it as
        its own answer, at the shown point, so that it gives exactly the mask seen."""
        if self.shown is None or not same_pixel(self.shown[0], (x, y)):
            return None
        return self.shown

    def _fire(self) -> None:
        if self._ready and not self._in_flight and self._wanted is not None:
            self._submit()

    def _submit(self) -> None:
        point, self._wanted = self._wanted, None
        assert point is not None
        self._in_flight = True
        generation = self._generation
        self._pool.submit(self._decode, point, on_done=lambda future: self._answered(generation, point, future))

    def _answered(self, generation: int, point: Point, future: Future) -> None:
        self._in_flight = False
        if generation == self._generation and not future.cancelled() and future.exception() is None:
            self.shown = (point, future.result())
            self._show(point, self.shown[1])
        if self._ready and self._wanted is not None and not self._timer.is_active():
            self._submit()  # the cursor rested elsewhere meanwhile: its turn now
