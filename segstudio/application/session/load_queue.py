"""Image loads off the owner's thread: the one image the user asked for, plus its prefetched neighbours.

Rules that keep the window fluid and memory bounded:

* One foreground load at a time. A request made while one runs replaces the waiting request (it
  does not queue behind it), so holding A/D down never piles up work: at most one load runs and
  one waits, and every result for a request that is no longer the latest is dropped (or kept as a
  prefetched neighbour when it is one).
* A request for an image that is being prefetched adopts that load instead of starting another.
* Prefetch runs on its own pool, for the neighbours the session names (one ahead, one behind);
  results for other images are dropped as soon as the user moves away.

Both run on pools of the owner ("load" and "prefetch", see application.pools), whose answers arrive
on the owner's thread; the queue never touches widgets.
"""

from __future__ import annotations

import functools
from concurrent.futures import CancelledError, Future

from psygnal import Signal

from segstudio.application.pools import Pools
from segstudio.application.session.loading import LoadedImage, LoadJob
from segstudio.core.errors import SegStudioError

LoadResult = tuple[int, LoadedImage | None, str | None]  # (index, the image or None, the error or None)


class LoadQueue:
    """Foreground request + background prefetch, with stale results discarded."""

    loaded = Signal(object)  # LoadResult of the latest request
    prefetched = Signal(int)  # index of a neighbour now loaded ahead

    def __init__(self, pools: Pools) -> None:
        self._foreground = pools.pool("load")
        self._background = pools.pool("prefetch")
        self._prefetch: dict[int, Future] = {}
        self._token = 0
        self._target = -1
        self._running: Future | None = None
        self._wanted: tuple[int, int, functools.partial[LoadedImage]] | None = None
        self._neighbours: set[int] = set()

    # --- state -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while the latest request has not been delivered."""
        return self._target >= 0

    @property
    def running(self) -> bool:
        """True while a foreground load runs (at most one ever does)."""
        return self._running is not None

    def prefetched_indices(self) -> list[int]:
        return sorted(self._prefetch)

    def peek_ready(self, index: int) -> LoadedImage | None:
        """The finished prefetch of ``index`` (left in the cache), or None."""
        future = self._finished(index)
        return None if future is None else _result(future)[0]

    def take_ready(self, index: int) -> LoadedImage | None:
        """The finished prefetch of ``index`` (removed from the cache), or None."""
        future = self._finished(index)
        if future is None:
            return None
        del self._prefetch[index]
        return _result(future)[0]

    def _finished(self, index: int) -> Future | None:
        """The prefetch of ``index`` if it has ended (loaded, failed or cancelled)."""
        future = self._prefetch.get(index)
        return future if future is not None and future.done() else None

    # --- requests --------------------------------------------------------------------------------
    def request(self, index: int, job: LoadJob, base: LoadedImage | None = None) -> None:
        """Load ``index`` (refreshing ``base`` when given); the result comes by :attr:`loaded`."""
        self._token += 1
        self._target = index
        self._wanted = None
        future = self._prefetch.pop(index, None)
        if base is None and future is not None and not future.cancelled():
            if future.done():
                base = _result(future)[0]
            else:
                token = self._token
                # the prefetch pool's answer is on its way already: a second callback, on the owner's thread
                future.add_done_callback(
                    lambda f: self._background.call_soon(self._on_finished, "adopted", token, index, f))
                return
        self._wanted = (self._token, index, functools.partial(job, base))
        self._pump()

    def cancel(self) -> None:
        """Forget the current request (its result, if any, is dropped) and every prefetch."""
        self._token += 1
        self._target = -1
        self._wanted = None
        self.keep_only(set())

    def prefetch(self, jobs: dict[int, LoadJob]) -> None:
        """Keep (or start) prefetching exactly the images in ``jobs``; drop every other one."""
        self.keep_only(set(jobs))
        for index, job in jobs.items():
            if index not in self._prefetch:
                future = self._background.submit(job, None)  # waits in the cache for take_ready
                if not future.cancelled():
                    self._prefetch[index] = future
                    future.add_done_callback(functools.partial(self._prefetch_ended, index))

    def _prefetch_ended(self, index: int, _future: Future) -> None:
        """A prefetch ended (on the worker): the index alone crosses threads (a queued future would
        keep its image alive)."""
        self._background.call_soon(self._prefetch_done, index)

    def _prefetch_done(self, index: int) -> None:
        future = self._finished(index)
        if future is not None and not future.cancelled() and future.exception() is None:
            self.prefetched.emit(index)

    def keep_only(self, indices: set[int]) -> None:
        """Free prefetched images that are not in ``indices`` (cancel those not started)."""
        self._neighbours = set(indices)
        for index in [i for i in self._prefetch if i not in indices]:
            self._prefetch.pop(index).cancel()

    # --- internals -------------------------------------------------------------------------------
    def _pump(self) -> None:
        if self._running is not None or self._wanted is None:
            return
        token, index, job = self._wanted
        self._wanted = None
        future = self._foreground.submit(job, on_done=lambda f: self._on_finished("foreground", token, index, f))
        if future.cancelled():  # the owner is closing: nothing more will load
            self._target = -1
            return
        self._running = future

    def _on_finished(self, kind: str, token: int, index: int, future: Future) -> None:
        if kind == "foreground" and future is self._running:
            self._running = None
        if token == self._token and self._target == index:
            self._target = -1
            loaded, error = _result(future)
            self.loaded.emit((index, loaded, error))
        elif index in self._neighbours and index not in self._prefetch and not future.cancelled():
            self._prefetch[index] = future  # a stale load that is now a neighbour: keep it
        self._pump()


def _result(future: Future) -> tuple[LoadedImage | None, str | None]:
    try:
        return future.result(), None
    except CancelledError:
        return None, "cancelled"
    except SegStudioError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected file problem: reported, never fatal
        return None, f"{type(exc).__name__}: {exc}"
