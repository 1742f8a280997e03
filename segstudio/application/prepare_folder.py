"""Prepare the whole folder for click to segment: every image embedded ahead, at idle priority.

The rule, in one place, without Qt: one image at a time on the pool; the user comes first, so
:meth:`PrepareFolder.pause` (a stroke, a click tool's embedding or decode of the image on screen)
stops the image in progress (its stop object is set: the ONNX Runtime run ends within an operator)
and the work goes on ``IDLE_MS`` after the last pause, with that image again. An image that fails
is named in one line and the rest go on; :meth:`PrepareFolder.cancel` ends it all. The window gives
a pool, a timer factory and a ``prepare_one(item, stop)`` that embeds one image into the project's
store (False when it was there already); tests give
:class:`~segstudio.application.pools.QueuedPools` and :class:`~segstudio.application.pools.ManualTimer`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from segstudio.application.pools import Pool, TimerFactory

IDLE_MS = 1500  # quiet this long after the last stroke or click before preparing goes on

T = TypeVar("T")


class Stop(Protocol):
    """What stops one image's embedding (``segstudio.model.sam.interrupt.Interrupt`` in the window)."""

    def set(self) -> None: ...


@dataclass
class Progress:
    """Where the preparation stands; ``report`` hears it after every image and at the end."""

    total: int
    done: int = 0  # images handled: computed, already there, or failed
    computed: int = 0
    failed: list[str] = field(default_factory=list)  # one line per image that could not be embedded
    paused: bool = False
    current: str = ""  # the image being prepared (its ``describe``), for the status line
    finished: bool = False
    cancelled: bool = False


class PrepareFolder(Generic[T]):
    """Idle-priority embedding of a list of images; see the module docstring."""

    def __init__(self, pool: Pool, timer: TimerFactory, prepare_one: Callable[[T, Stop], bool],
                 report: Callable[[Progress], None], make_stop: Callable[[], Stop] = threading.Event,
                 idle_ms: int = IDLE_MS, describe: Callable[[T], str] = str) -> None:
        self._pool = pool
        self._describe = describe  # an item's name in a failure line
        self._prepare_one = prepare_one
        self._report = report
        self._make_stop = make_stop
        self._timer = timer(idle_ms, self._go_on)
        self._items: list[T] = []
        self._stop: Stop | None = None  # of the image in flight
        self._stopped = False  # that image was stopped by a pause: it is done again
        self._in_flight = False
        self.progress: Progress | None = None

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the last image is handled or :meth:`cancel`."""
        return self.progress is not None and not self.progress.finished

    def start(self, items: Sequence[T]) -> None:
        """Prepare ``items`` in order (a run in progress is cancelled first)."""
        if self.running:
            self.cancel()
        self._items = list(items)
        self.progress = Progress(len(self._items))
        self._next()

    def pause(self) -> None:
        """The user is busy: stop the image in progress; go on once they have been idle a while."""
        if not self.running:
            return
        assert self.progress is not None
        self._timer.start()  # restarts: the quiet time counts from the last pause
        if not self.progress.paused:
            self.progress.paused = True
            self._report(self.progress)
        if self._in_flight and self._stop is not None:
            self._stopped = True
            self._stop.set()

    def cancel(self) -> None:
        """End the preparation; what was written stays (each file is whole)."""
        if not self.running:
            return
        assert self.progress is not None
        self._timer.stop()
        if self._stop is not None:
            self._stop.set()
        self.progress.finished = self.progress.cancelled = True
        self._report(self.progress)

    def _go_on(self) -> None:
        if self.running and self.progress is not None:
            self.progress.paused = False
            self._report(self.progress)
            if not self._in_flight:
                self._next()

    def _next(self) -> None:
        progress = self.progress
        assert progress is not None
        if progress.done >= len(self._items):
            progress.finished = True
            self._report(progress)
            return
        item = self._items[progress.done]
        self._stop, self._stopped, self._in_flight = self._make_stop(), False, True
        progress.current = self._describe(item)
        self._pool.submit(self._prepare_one, item, self._stop,
                          on_done=lambda future: self._answered(progress, item, future))
        self._report(progress)  # which image is being embedded now

    def _answered(self, progress: Progress, item: T, future: Future) -> None:
        self._in_flight = False
        progress.current = ""
        if progress is not self.progress or progress.finished:
            return  # cancelled, or another run started
        stopped, self._stopped = self._stopped, False
        failed = future.cancelled() or future.exception() is not None
        if failed and stopped:
            pass  # paused in the middle: this image again once the user is idle
        elif failed:
            reason = "cancelled" if future.cancelled() else str(future.exception()) or type(future.exception()).__name__
            progress.failed.append(f"{self._describe(item)}: {reason}")
            progress.done += 1
        else:
            progress.computed += bool(future.result())
            progress.done += 1
        self._report(progress)
        if not self._timer.is_active():
            self._next()
