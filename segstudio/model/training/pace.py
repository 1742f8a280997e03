"""How fast a training run steps, for its progress reports, and when the next report is due.

The rate is measured over the steps alone (data and step time): validation and checkpoints come in
bursts and are left out, so images/s says how fast training runs and the time left does not jump
after each validation. A report is due every ``interval_s`` seconds and at the end of each epoch.
"""

from __future__ import annotations

import time


class Pace:
    """The clock of one training session (a resumed run starts a new one)."""

    def __init__(self, interval_s: float) -> None:
        self.t0 = time.perf_counter()  # the session's first step starts here
        self.interval_s = interval_s
        self.steps = 0                 # steps taken in this session
        self.side_s = 0.0              # seconds spent validating and writing files
        self.last_report = 0.0

    def stepped(self) -> None:
        self.steps += 1

    def aside(self, seconds: float) -> None:
        """``seconds`` spent on validation and checkpoints: not part of the step rate."""
        self.side_s += seconds

    def due(self, last: bool) -> bool:
        """Whether to report now (always when ``last``: the end of an epoch or of the run)."""
        now = time.perf_counter()
        if not last and now - self.last_report < self.interval_s:
            return False
        self.last_report = now
        return True

    def rate(self, batch: int, world_size: int) -> tuple[float, float]:
        """(images per second, seconds per step) up to the last report, side work left out."""
        stepping = max(self.last_report - self.t0 - self.side_s, 1e-9)
        return self.steps * batch * world_size / stepping, stepping / max(self.steps, 1)
