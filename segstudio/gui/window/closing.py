"""Closing the window in phases: every question first, then every stop, then every shutdown, once.

Why: a pool shut down while the user can still answer Cancel (to "unsaved changes", "training
running") leaves a window whose loads, saves and predictions silently never run again. So parts of
the window register a *guard* (may it close? it only asks) and a *hook* (stop your work: the close
is certain). A hook returns a future (or None when it stopped at once): a training run ends after
its current batch, a live model is written on its worker. Nobody waits for them: the window keeps
its close pending, and closes again once every future is done (:meth:`CloseSequence.stop`); the
window's pools are shut down last, once (:meth:`CloseSequence.finish`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from segstudio.application.pools import when_all
from segstudio.gui.workers.background import BackgroundPools

WAIT_AT_CLOSE = ("save",)  # pools whose running job is waited for when the window closes
Hook = Callable[[], "Future | None"]


class CloseSequence:
    """The guards and hooks of one window, and its pools."""

    def __init__(self, pools: BackgroundPools) -> None:
        self.pools = pools
        self._guards: list[Callable[[], bool]] = []
        self._hooks: list[Hook] = []
        self.confirmed = False  # every guard said yes; the close waits for the last writes and stops
        self.losing_accepted = False  # the user chose to quit although some edits could not be saved
        self._stopped: Future | None = None  # every hook's stop, joined; None until the hooks ran
        self._then: Callable[[], None] | None = None

    @property
    def done(self) -> bool:
        """True once a close went through (a second close event has nothing left to stop)."""
        return self.pools.shut_down

    @property
    def stopping(self) -> bool:
        """True while the hooks' work is still ending (the window closes again once it has)."""
        return self._stopped is not None and not self._stopped.done()

    def add_guard(self, guard: Callable[[], bool]) -> None:
        self._guards.append(guard)

    def add_hook(self, hook: Hook) -> None:
        """``hook()`` stops a part's work once the close is certain; it returns a future that
        completes on the GUI thread once that work has ended (None: ended at once)."""
        self._hooks.append(hook)

    def may_close(self) -> bool:
        """Ask every guard, in the order they were added; the first False keeps the window open."""
        return all(guard() for guard in self._guards)

    def stop(self, then: Callable[[], None]) -> bool:
        """The close is confirmed: run every hook, once (a training run ends while the project is
        still locked). True when all their work has ended; otherwise ``then()`` is called once it
        has (the window closes again then) and the close waits, without blocking anything."""
        self.confirmed = True
        if self._stopped is None:
            self._stopped = when_all(future for future in (hook() for hook in self._hooks) if future is not None)
            self._stopped.add_done_callback(lambda future: self._call_then())
        if self._stopped.done():
            return True
        self._then = then
        return False

    def _call_then(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()

    def finish(self, last: Callable[[], None] = lambda: None) -> None:
        """The hooks' work has ended: ``last`` (the session lets its project go), then shut every
        pool down, once. (Hooks not run yet are run first, without waiting for them.)"""
        if self._stopped is None:
            self.stop(lambda: None)
        last()
        self.pools.shutdown(wait_for=WAIT_AT_CLOSE)
