"""A training run held to a time budget: the loop's side of ``--minutes`` (budget.py is the rule).

Three moments of a :class:`~segstudio.model.training.loop.Loop`:

* :meth:`BudgetRun.choose`, once the model is built and before the data is: measure a step and a
  validation (budget_probe.py), choose the crop, the batch and a first number of steps; a budget
  too short to learn anything ends here, before any step, with one line (TrainingError);
* :meth:`BudgetRun.settle`, once the data is decoded: the steps that fit in what is left now (the
  decoding took its share; the cost of drawing a batch is measured and added to the step's), so the
  poly schedule is built for the planned last step (a machine that slowed down meanwhile is said
  in the notes, not refused: the budget was measured to fit);
* :meth:`BudgetRun.after_step`, after every step: past the first 3 % of the plan (warm-up and
  thread trials), every ten steps the pace (of the last 5 % of the plan, or of the last ten steps
  when they were slower: the load of a shared machine changes) is compared with the time left;
  when the run would end late, or early by more than a few per cent, the plan is changed to the
  steps that fit (half-way while more than 30 % of the budget is left), and the learning-rate
  schedule with it (it still ends at zero at the new last step); at most twice the first plan.

The deadline is the budget counted from ``config.budget_start`` (the process's start on the command
line, the click on Train in the window). The plan (choices, measurements, why) goes into the run's
notes and history.json, and into the state file's options, so ``--resume`` continues the recorded
plan (its steps, crop and batch) rather than planning again.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from dataclasses import replace
from typing import Any

from segstudio.core.errors import TrainingError

from . import budget
from . import recipe as recipes
from .budget import Candidate, Plan
from .budget_probe import measure_forward, measure_steps, model_bytes, probe_points
from .types import TrainConfig

CHECK_STEPS = 10       # steps between two checks of the pace
WARM_SHARE = 0.03      # the first 3 % of the plan (at least CHECK_STEPS steps) is not the pace yet
WINDOW_SHARE = 0.05    # the pace is that of the last 5 % of the plan's steps (at least CHECK_STEPS)


class BudgetRun:
    """The plan of one budgeted run and its deadline."""

    def __init__(self, cfg: TrainConfig, notes: list[str]) -> None:
        self.run_notes = notes  # the run's: a shortened plan says so there
        self.minutes = float(cfg.minutes)
        self.start = cfg.budget_start if cfg.budget_start is not None else time.time()
        self.deadline = self.start + self.minutes * 60.0
        self.plan: Plan | None = None
        self.val_s = 0.0
        self.write_s = 0.0
        self.measured: list[tuple[int, int, float]] = []
        self.options: list[Candidate] = []  # the pairs tried, in the planner's order
        self.shortened: list[str] = []  # the re-plans' lines (the last one stays in the notes)
        self.first_total = 0
        self.window: deque[tuple[int, float]] = deque()  # (step, seconds of steps) of recent steps
        self.last_check = 0
        self.first_step = 0  # the session's first step (a budget is planned for a fresh run: 0)

    def spent(self) -> float:
        return time.time() - self.start

    # ------------------------------------------------------------------ before the data
    def choose(self, loop: Any, sizes: list[tuple[int, int]], val_count: int, loss_fn: Any) -> TrainConfig:
        """Measure and choose crop, batch and a first number of steps; the config to build the data
        with. TrainingError (one line) when the budget is too short."""
        cfg = loop.cfg
        if loop.ctx.enabled:  # each process would measure and re-plan on its own, and the ranks part
            raise TrainingError("a time budget plans one process: under torchrun give --steps or --epochs")
        options = self.options = budget.candidates(cfg.size, cfg.batch, [max(h, w) for h, w in sizes])
        recipe = recipes.choose(cfg, sizes, val_count)
        self.measured = measure_steps(loop.model, loop.raw_model, loss_fn, cfg, recipe, loop.num_classes,
                                      loop.device, probe_points(options))
        cost = budget.StepCost.fit(self.measured)
        aspect = budget.median_aspect(sizes)
        top = recipes.working_size(sizes, options[0].size)  # one forward pass timed, scaled by pixels
        height = max(32, round(top * aspect))
        per_px = measure_forward(loop.raw_model, loop.device, height, top, contextlib.nullcontext) / (height * top)

        def val_seconds(option: Candidate) -> float:
            ref = recipes.working_size(sizes, option.size)
            return val_count * per_px * ref * ref * aspect

        self.write_s = budget.write_seconds(model_bytes(loop.raw_model))
        chosen = budget.plan(self.minutes, self.spent(), cost, options, val_seconds, self.write_s)
        self.val_s = val_seconds(Candidate(chosen.size, chosen.batch))
        if not chosen.fits:
            raise TrainingError(chosen.reason)
        if cfg.lr is None and cfg.is_scratch():  # a short schedule learns more at a higher rate
            chosen.lr = budget.short_run_lr(recipe.lr, chosen.steps)
            budget.explain(chosen, options)
        self.plan = chosen
        lr = chosen.lr if chosen.lr is not None else cfg.lr
        return replace(cfg, size=chosen.size, batch=chosen.batch, steps=chosen.steps, epochs=None, minutes=None,
                       lr=lr)

    # ------------------------------------------------------------------ after the data
    def settle(self, data: Any) -> int:
        """The steps that fit now that the data is ready (the cost of drawing a batch added to the
        step's); sets ``data``'s length and returns it."""
        plan = self.plan
        draw_s = _draw_seconds(data)
        plan.step_s += draw_s
        plan.spent_s = self.spent()
        plan.steps = max(1, budget.steps_that_fit(self.deadline - time.time() - plan.reserve_s, plan.step_s))
        budget.explain(plan, self.options)
        if not plan.fits:  # the machine slowed since it was measured: the run goes on, and says so
            plan.fits, plan.reason = True, ""
            plan.notes.append(f"the machine slowed down while the data was prepared: only {plan.steps} steps "
                              "fit now")
        data.set_total(plan.steps)
        data.bound = max(plan.steps, int(budget.GUARD_CEILING * plan.steps))  # room for a longer re-plan
        self.first_total = plan.steps
        return plan.steps

    def notes(self) -> list[str]:
        plan = self.plan
        probe = ", ".join(f"{s} px × {b}: {t:.2f} s" for s, b, t in self.measured)
        return [*plan.notes, f"measured steps ({probe}); a validation ~{self.val_s:.1f} s, "
                f"writing ~{self.write_s:.1f} s"]

    # ------------------------------------------------------------------ during the steps
    def after_step(self, step: int, total: int, steps_s: float, validations_left: int) -> int | None:
        """A new planned total when, at the pace of the recent steps (``steps_s``: this session's wall
        seconds so far, validations and checkpoints left out), the run would end late or early
        by more than a few per cent; else None. Checked every CHECK_STEPS steps, over a window of
        the last WINDOW_SHARE of the plan (at least CHECK_STEPS steps)."""
        if self.plan is None or step >= total:
            return None
        if step - self.first_step < max(CHECK_STEPS, int(WARM_SHARE * self.first_total)):
            return None  # the first steps allocate, pick kernels and try thread counts: not the pace
        self.window.append((step, steps_s))
        window = max(CHECK_STEPS, int(WINDOW_SHARE * self.first_total))
        while len(self.window) > 1 and step - self.window[1][0] >= window:
            self.window.popleft()
        since_step, since_s = self.window[0]
        if step - since_step < CHECK_STEPS or step - self.last_check < CHECK_STEPS:
            return None
        self.last_check = step
        recent_step, recent_s = next((e for e in reversed(self.window) if step - e[0] >= CHECK_STEPS), self.window[0])
        pace = max((steps_s - since_s) / (step - since_step),  # slower recent steps count at once
                   (steps_s - recent_s) / max(1, step - recent_step))
        now = time.time()
        left = self.deadline - now - budget.reserve_left(self.val_s, validations_left, self.write_s)
        damped = self.deadline - now > budget.GUARD_DAMPED * self.minutes * 60.0
        new = budget.replanned(step, total, left, pace, self.first_total, damped)
        if new is not None:
            line = (f"the steps ran at {pace:.2f} s, not the {self.plan.step_s:.2f} s measured: the plan was "
                    f"changed to {new} steps (at step {step}) to end on time")
            if self.shortened:
                self.run_notes.remove(self.shortened[-1])
            self.shortened.append(line)
            self.run_notes.append(line)
            self.plan.steps = new
        return new

    def record(self) -> dict:
        """The plan as history.json and the state file keep it."""
        values = self.plan.record() if self.plan is not None else {"minutes": self.minutes}
        values["measured"] = [list(m) for m in self.measured]
        values["deadline_s"] = round(self.deadline - self.start, 1)
        if self.shortened:
            values["replanned"] = self.shortened[-1]
            values["replanned_times"] = len(self.shortened)
        return values


def _draw_seconds(data: Any) -> float:
    """Seconds to draw one batch (augmented on the device when the set is in memory); 0 when the
    batches stream from worker processes (they overlap the steps)."""
    if not getattr(data.run, "in_memory", False):
        return 0.0
    batches = data.batches(0)
    next(batches, None)  # the first builds the plan
    started, n = time.perf_counter(), 0
    while n < 2 and next(batches, None) is not None:
        n += 1
    return (time.perf_counter() - started) / max(n, 1)
