"""The window's one idiom for background work: named thread pools whose answers arrive on the GUI thread.

Why one idiom: work that runs off the GUI thread (loading, saving, predicting, training, rewriting
masks) must hand its result back to the GUI thread, and must stop when the window closes. Done six
different ways, some pools were never shut down and others were shut down while the window could
still cancel its close. Here every pool belongs to one :class:`BackgroundPools` owned by the window,
and :meth:`BackgroundPools.shutdown` runs once, after the close is confirmed.

A job is a plain callable run on a worker thread. ``on_done(future)`` runs on the GUI thread when
it finishes (also when it failed or was cancelled: ``future.exception()`` tells). A running job
reports progress with :meth:`BackgroundPool.call_soon`, which is safe from any thread.

These are the window's implementation of ``application.pools`` (the controllers' pools and timers):
:class:`BackgroundPools` and :func:`qt_timer` are what a window hands its controllers.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

DoneFn = Callable[[Future], None]


class _Relay(QObject):
    """Carries ``(callback, args)`` from a worker thread to the thread this object lives in."""

    deliver = Signal(object)


class BackgroundPool:
    """A named pool of worker threads; callbacks run on the thread that created the pool (the GUI's).

    ``parent`` (a QObject) bounds the callbacks' lifetime: once it is deleted, answers still on
    their way are dropped instead of reaching a half-destroyed widget.
    """

    def __init__(self, name: str, workers: int = 1, parent: QObject | None = None) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=f"segstudio-{name}")
        self._relay = _Relay(parent)
        self._relay.deliver.connect(_call, Qt.ConnectionType.QueuedConnection)
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`shutdown` has run; later submits are refused."""
        return self._closed

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: DoneFn | None = None) -> Future:
        """Run ``fn(*args)`` on a worker; ``on_done(future)`` later on the GUI thread.

        After shutdown the job is not run and the returned future is already cancelled (no callback):
        the window is closing and nobody waits for the answer.
        """
        if self._closed:
            future: Future = Future()
            future.cancel()
            return future
        future = self._executor.submit(fn, *args)
        if on_done is not None:
            future.add_done_callback(lambda done: self.call_soon(on_done, done))
        return future

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` on the GUI thread, soon; callable from any thread."""
        try:
            self._relay.deliver.emit((callback, args))
        except RuntimeError:  # the relay's parent is gone: nobody is left to tell
            pass

    def shutdown(self, wait: bool = False) -> None:
        """Refuse new work and drop queued jobs; ``wait`` also waits for the running one. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=wait, cancel_futures=True)


def _call(item: tuple[Callable[..., Any], tuple]) -> None:
    callback, args = item
    callback(*args)


class BackgroundPools:
    """All the pools of one window, shut down together exactly once (after the close is confirmed)."""

    def __init__(self, parent: QObject | None = None) -> None:
        self._parent = parent
        self._pools: dict[str, BackgroundPool] = {}
        self._shut = False

    def pool(self, name: str, workers: int = 1) -> BackgroundPool:
        """The pool called ``name``, made on first use."""
        if name not in self._pools:
            self._pools[name] = BackgroundPool(name, workers, self._parent)
            if self._shut:
                self._pools[name].shutdown()
        return self._pools[name]

    @property
    def shut_down(self) -> bool:
        """True once :meth:`shutdown` has run."""
        return self._shut

    def shutdown(self, wait: bool = False, wait_for: tuple[str, ...] = ()) -> None:
        """Shut every pool down; the pools named in ``wait_for`` (e.g. saving) are waited for."""
        if self._shut:
            return
        self._shut = True
        for name, pool in self._pools.items():
            pool.shutdown(wait=wait or name in wait_for)


class QtTimer:
    """A single-shot QTimer as ``application.pools.Timer`` (its callback runs on the GUI thread)."""

    def __init__(self, interval_ms: int, callback: Callable[[], None], parent: QObject | None = None) -> None:
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(callback)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def is_active(self) -> bool:
        return self._timer.isActive()


def qt_timer(parent: QObject | None = None) -> Callable[[int, Callable[[], None]], QtTimer]:
    """The timer factory a window gives its controllers (timers owned by ``parent``)."""
    return lambda interval_ms, callback: QtTimer(interval_ms, callback, parent)
