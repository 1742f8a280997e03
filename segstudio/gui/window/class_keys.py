"""Choosing a class with the number keys, also beyond 9: digits typed in quick succession form one
number ("1" then "2" within :data:`TYPE_WINDOW_S` selects class 12), as in a list's type-to-select.

With fewer than ten classes nothing changes: each digit selects its class at once, because a
two-digit number that is not a class falls back to the last digit alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

TYPE_WINDOW_S = 0.8


class ClassKeys:
    """Turns digit key presses into class indices (no Qt: the window passes the digits in)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._typed = ""
        self._last = -1e9

    def press(self, digit: int, class_count: int) -> int | None:
        """The class to select after ``digit`` is pressed, or None when it names no class."""
        now = self._clock()
        combined = (self._typed + str(digit)) if now - self._last <= TYPE_WINDOW_S else str(digit)
        self._last = now
        if len(combined) > 1 and int(combined) < class_count:
            self._typed = combined
            return int(combined)
        self._typed = str(digit)
        return digit if digit < class_count else None
