"""When a run validates and writes files: fixed costs that do not grow with the number of epochs.

A small project has epochs of a few steps; validating and writing the full training state after
each one cost more than the training itself. Here:

* **validation** (and history.json) every ``interval`` steps — whole epochs, about 10 % of the run
  (at most ~10 points plus the last step) — and always at the end; a validation that itself takes
  more than ``EXPENSIVE_S`` is deferred until ten times its duration has passed, so it never
  takes more than ~10 % of the wall time;
* **the best model** (model.safetensors) is kept in memory when validation improves and written at
  most every ``MODEL_WRITE_S`` seconds, and always at the end, on stop and on failure;
* **the training state** (training_state.pt: model, optimiser, RNG; tens of MB) only at the end,
  on stop, on failure, and as a safety copy every ``SAFETY_S`` seconds.

The step schedule is a pure function of the run's length, so an interrupted and resumed run
validates at the same steps as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

VAL_SHARE = 0.1        # validate about every 10 % of the run
EXPENSIVE_S = 5.0      # validations cheaper than this are never deferred (deterministic schedule)
MODEL_WRITE_S = 30.0   # at most one best-model write per 30 s (pending ones flush at the end)
SAFETY_S = 300.0       # a resumable state file at least every 5 minutes


def val_interval(total_steps: int, steps_per_epoch: int, every_epochs: int | None = None) -> int:
    """Steps between validations: ``every_epochs`` epochs when given, else whole epochs making
    about 10 % of the run."""
    if every_epochs is not None:
        return max(1, every_epochs) * steps_per_epoch
    epochs = max(1, round(total_steps * VAL_SHARE / steps_per_epoch))
    return epochs * steps_per_epoch


@dataclass
class RunSchedule:
    """Decides, step by step, whether to validate, write the best model, or write a safety state."""

    total_steps: int
    interval: int
    clock: float = field(default_factory=time.perf_counter)
    last_val_end: float = -math.inf
    last_val_cost: float = 0.0
    last_model_write: float = -math.inf
    last_state_write: float = field(default_factory=time.perf_counter)

    def validation_due(self, step: int, now: float | None = None) -> bool:
        """At the last step always; at scheduled steps unless the last validation was expensive
        and recent."""
        if step >= self.total_steps:
            return True
        if step % self.interval:
            return False
        now = time.perf_counter() if now is None else now
        if self.last_val_cost >= EXPENSIVE_S and now - self.last_val_end < 10 * self.last_val_cost:
            return False
        return True

    def validated(self, started: float, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        self.last_val_end, self.last_val_cost = now, now - started

    def model_write_due(self, now: float | None = None) -> bool:
        now = time.perf_counter() if now is None else now
        return now - self.last_model_write >= MODEL_WRITE_S

    def model_written(self) -> None:
        self.last_model_write = time.perf_counter()

    def safety_due(self, now: float | None = None) -> bool:
        now = time.perf_counter() if now is None else now
        return now - self.last_state_write >= SAFETY_S

    def state_written(self) -> None:
        self.last_state_write = time.perf_counter()
