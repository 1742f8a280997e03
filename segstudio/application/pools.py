"""Background work for the controllers, without Qt: named pools whose answers come back on one thread.

A controller of the application layer never blocks its caller: loading, saving, rewriting and
training run on worker threads, and their answers (``on_done(future)``) must reach the controller
on the thread that owns it, in order. The window provides pools whose answers arrive on its GUI
thread (``gui.workers.background``); tests and scripts use :class:`QueuedPools`, where jobs and
answers wait in one queue until :meth:`QueuedPools.run_pending` runs them, in order, on the calling
thread: a flow is then driven step by step, deterministically, with no thread and no sleep.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, Protocol

DoneFn = Callable[[Future], None]


class Pool(Protocol):
    """A named pool of workers; see the module docstring."""

    @property
    def closed(self) -> bool:
        """True once the pool is shut down: later jobs are not run (their future is cancelled)."""

    def submit(self, fn: Callable[..., Any], *args: object, on_done: DoneFn | None = None) -> Future:
        """Run ``fn(*args)`` on a worker; ``on_done(future)`` later on the owner's thread."""

    def call_soon(self, callback: Callable[..., Any], *args: object) -> None:
        """Run ``callback(*args)`` on the owner's thread, soon; callable from any thread."""


class Pools(Protocol):
    """The pools of one window (or one script), made on first use by name."""

    def pool(self, name: str, workers: int = 1) -> Pool: ...


class Timer(Protocol):
    """A single-shot timer (autosave's delay): ``start`` (re)arms it, ``stop`` disarms it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def is_active(self) -> bool: ...


TimerFactory = Callable[[int, Callable[[], None]], Timer]  # (interval in ms, callback) -> Timer


class QueuedPools:
    """Pools for tests and scripts: every job and every answer waits in one FIFO until
    :meth:`run_pending` runs them on the calling thread (a job's answer is queued behind the jobs
    queued before it finished, as a GUI thread would receive it)."""

    def __init__(self) -> None:
        self._queue: deque[Callable[[], None]] = deque()
        self._pools: dict[str, QueuedPool] = {}

    def pool(self, name: str, workers: int = 1) -> QueuedPool:
        if name not in self._pools:
            self._pools[name] = QueuedPool(name, self._queue)
        return self._pools[name]

    @property
    def pending(self) -> int:
        """Jobs and answers waiting."""
        return len(self._queue)

    def run_pending(self, limit: int = 100_000) -> int:
        """Run what waits, and what that queues, until nothing is left; returns how many ran."""
        ran = 0
        while self._queue and ran < limit:
            self._queue.popleft()()
            ran += 1
        return ran

    def shutdown(self) -> None:
        for pool in self._pools.values():
            pool.shutdown()


class QueuedPool:
    """One named pool of :class:`QueuedPools`."""

    def __init__(self, name: str, queue: deque[Callable[[], None]]) -> None:
        self.name = name
        self._queue = queue
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, fn: Callable[..., Any], *args: object, on_done: DoneFn | None = None) -> Future:
        future: Future = Future()
        if self._closed:
            future.cancel()
            return future

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - delivered through the future, as a pool does
                future.set_exception(exc)

        if on_done is not None:
            future.add_done_callback(lambda done: self.call_soon(on_done, done))
        self._queue.append(run)
        return future

    def call_soon(self, callback: Callable[..., Any], *args: object) -> None:
        self._queue.append(lambda: callback(*args))

    def shutdown(self, wait: bool = False) -> None:
        self._closed = True


class ManualTimer:
    """A :class:`Timer` for tests: it fires only when :meth:`fire` is called (if it is active)."""

    def __init__(self, interval_ms: int, callback: Callable[[], None]) -> None:
        self.interval_ms = interval_ms
        self._callback = callback
        self._active = False

    def start(self) -> None:
        self._active = True

    def stop(self) -> None:
        self._active = False

    def is_active(self) -> bool:
        return self._active

    def fire(self) -> bool:
        """Run the callback if the timer is armed; True if it ran."""
        if not self._active:
            return False
        self._active = False
        self._callback()
        return True


def when_all(futures: Iterable[Future]) -> Future:
    """A future that completes (with None) once every one of ``futures`` is done, on the thread that
    completes the last of them: a controller completes its own futures on its owner's thread, so
    closing follows several stops without waiting for any (done at once when there is none)."""
    pending = list(futures)
    joined: Future = Future()
    left = [len(pending)]
    lock = threading.Lock()

    def one_done(_: Future) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            joined.set_result(None)

    if not pending:
        joined.set_result(None)
    for future in pending:
        future.add_done_callback(one_done)
    return joined
