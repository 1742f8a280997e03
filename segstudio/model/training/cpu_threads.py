"""How many intra-op threads a CPU training run uses when the machine is shared.

torch's OpenMP threads meet at a barrier in every operator; when other processes keep the cores
busy (tests, a second run, the app's own painting), a preempted thread makes all the others
wait. Measured on 2 cores with ~10 busy processes: a small SegFormer step took 3.0 s with 2
threads and 0.3 s with 1. :class:`ThreadTuner` times a few steps at each candidate count (from 1
up to the default, doubling), keeps the fastest, and tries again every ``RETUNE_S`` seconds because
the load changes during a run. A count whose first step takes more than ``LOSING_SHARE`` times the
best so far is dropped after that step: on a busy machine a 128 px x 8 step of B0 took 6.2 s on 2
threads and 0.13 s on 1 (load 8, 2 cores), and three such trial steps at the start and again a
minute later would cost a 2-minute time budget (budget.py) a third of its seconds. Short runs
(tests, quick checks) are left alone: a thread count can change floating-point summation order,
and they must stay bit-reproducible on resume.
"""

from __future__ import annotations

import time

import torch

MIN_STEPS = 100     # runs shorter than this keep torch's thread count
TRIAL_STEPS = 3     # steps timed per candidate (the fastest counts)
RETUNE_S = 60.0     # re-measure after this long
LOSING_SHARE = 2.0  # a count whose step takes this many times the best so far is not timed further


def candidates(max_threads: int) -> list[int]:
    """max, max/2, ..., 1 (distinct)."""
    out, n = [], max(1, max_threads)
    while n >= 1:
        out.append(n)
        n = n // 2 if n > 1 else 0
    return out


class ThreadTuner:
    """Call :meth:`observe` with each step's seconds; it sets ``torch.set_num_threads``."""

    def __init__(self, device: torch.device, total_steps: int) -> None:
        self.max_threads = torch.get_num_threads()
        self.enabled = device.type == "cpu" and total_steps >= MIN_STEPS and self.max_threads > 1
        self.best = self.max_threads
        self._trial: list[int] = []
        self._times: dict[int, float] = {}
        self._count = 0
        self._next_tune = time.perf_counter()

    def observe(self, seconds: float) -> None:
        if not self.enabled:
            return
        if not self._trial:
            if time.perf_counter() < self._next_tune:
                return
            self._trial, self._times = candidates(self.max_threads)[::-1], {}
            self._switch(self._trial[0])
            return  # the step just timed ran before this trial
        current = self._trial[0]
        best = min((t for n, t in self._times.items() if n != current), default=float("inf"))
        self._times[current] = min(self._times.get(current, float("inf")), seconds)
        self._count += 1
        if self._count < TRIAL_STEPS and seconds <= LOSING_SHARE * best:
            return
        self._trial.pop(0)
        if self._trial:
            self._switch(self._trial[0])
            return
        self.best = min(self._times, key=self._times.get)
        torch.set_num_threads(self.best)
        self._next_tune = time.perf_counter() + RETUNE_S

    def _switch(self, threads: int) -> None:
        torch.set_num_threads(threads)
        self._count = 0

    def restore(self) -> None:
        """Leave torch as found (the GUI and tests run several trainings in one process)."""
        if self.enabled:
            torch.set_num_threads(self.max_threads)
