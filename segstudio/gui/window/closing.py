"""Closing the window in two phases: every question first, then every shutdown, exactly once.

Why: a pool shut down while the user can still answer Cancel (to "unsaved changes", "training
running") leaves a window whose loads, saves and predictions silently never run again. So parts of
the window register a *guard* (may it close? it only asks) and a *hook* (stop your work: the close
is certain); the window's pools are shut down last, once.
"""

from __future__ import annotations

from collections.abc import Callable

from segstudio.gui.workers.background import BackgroundPools

WAIT_AT_CLOSE = ("save",)  # pools whose running job is waited for when the window closes


class CloseSequence:
    """The guards and hooks of one window, and its pools."""

    def __init__(self, pools: BackgroundPools) -> None:
        self.pools = pools
        self._guards: list[Callable[[], bool]] = []
        self._hooks: list[Callable[[], None]] = []
        self.confirmed = False  # every guard said yes; the close waits for the last writes

    @property
    def done(self) -> bool:
        """True once a close went through (a second close event has nothing left to stop)."""
        return self.pools.shut_down

    def add_guard(self, guard: Callable[[], bool]) -> None:
        self._guards.append(guard)

    def add_hook(self, hook: Callable[[], None]) -> None:
        self._hooks.append(hook)

    def may_close(self) -> bool:
        """Ask every guard, in the order they were added; the first False keeps the window open."""
        return all(guard() for guard in self._guards)

    def finish(self, last: Callable[[], None] = lambda: None) -> None:
        """The close is confirmed: run the hooks (a training run ends while the project is still
        locked), then ``last`` (the session lets its project go), then shut every pool down, once."""
        for hook in self._hooks:
            hook()
        last()
        self.pools.shutdown(wait_for=WAIT_AT_CLOSE)
