"""How a time budget is spent: the one planning rule of ``--minutes`` and the form's "Time budget".

Pure arithmetic, no torch: the run (budget_probe.py) measures a step and a validation, the form
(application/training/run_plan.py) uses a measured cost or the last run's, and both ask this module
what a run of N minutes does. The rule:

* The **whole process** counts: the seconds already spent (start, imports, the model) are taken off,
  and what comes after the last step is reserved up front: the last validation, writing the
  model and the training state, and the process's exit (``EXIT_S``). The periodic validations
  (about every 10 % of the run) are reserved too, at most ``VAL_SHARE`` of the budget, as
  run_schedule.py defers expensive ones.
* A step costs ``fixed + per_pixel × batch × size²`` (:class:`StepCost`, fitted to two measured
  points: per-step overheads dominate small crops, pixels large ones).
* **Working size and batch**: crops from the user's size, but never above 0.8 × the images' median
  long side (a crop as large as the image is the same picture every epoch: on the generated texture
  set 361 steps of 160 px crops of the 160 px images scored 0.418 held-out where 600 steps of 128 px
  crops scored 0.591 in about the same time and pixels), down in steps of 32 to a quarter of it (at
  least ``MIN_SIZE``). The **batch is the user's** (8) while its smallest crop fits ``MIN_STEPS``
  steps; only then is it halved (down to ``MIN_BATCH``). At that batch the crops are tried from
  the largest, and the first that fits ``CHOICE_STEPS`` steps is taken (``CHOICE_STEPS`` keeps
  enough optimiser steps for the warm-up and the decay), else the smallest crop. Fewer steps of a
  full batch learn more than more steps of a smaller one in the same seconds: on the texture set,
  where a 2-minute budget at load 6-8 chose 128 px × 2 by the earlier rule (the most pixels a step
  that fit 250 steps), 544 steps scored 0.199 held-out where 173 steps of 128 px × 8 scored 0.340;
  at equal compute (300 steps of 128 × 8) 500 steps of 128 × 4 scored 0.247 against 0.493, 450
  steps of 96 × 8 0.399, 150 steps of 128 × 16 0.395; on CamVid 250 steps of 128 × 8 scored 0.586
  against 0.576 for 400 steps of 192 × 2. Every second left is spent on more steps of that pair;
  when no batch fits ``MIN_STEPS``, the pair with the most steps is taken (and refused, below).
  Fewer than ``FULL_STEPS`` (on the generated sets and on CamVid 600 steps of 128 px × 8 reach the
  plain transformers loop's quality: tests/benchmarks/loop_speed.py) is said in the notes: a
  longer budget would learn more.
* **Steps**: all that fit, at ``STEP_SHARE`` of the measured step time's budget (a margin for a busy
  machine); the poly schedule ends at zero at the planned last step. Fewer than ``MIN_STEPS`` is
  too short to learn anything: the run is refused before its first step, in one line.
* **Rate**: a from-scratch plan of fewer than ``FULL_STEPS`` steps trains at ``SHORT_LR_SCALE`` ×
  the recipe's rate (:func:`short_run_lr`: measured, at equal steps, on the texture set and CamVid).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from segstudio.core import platform_io

FULL_STEPS = 600        # steps that reach the plain loop's quality on our benchmark sets
CHOICE_STEPS = 250      # the largest step that fits this many is chosen (docs/training-budget.md)
MIN_STEPS = 100         # fewer: the warm-up and a few epochs, nothing learnt worth keeping
MIN_SIZE = 128          # smallest crop the planner chooses (a B0 stage-4 map of 4x4)
MIN_BATCH = 2           # smallest batch the planner chooses (batch-norm in the decode head)
CROP_SHARE = 0.8        # the largest crop: a fifth below the images' median long side, so crops move
MIN_SHARE = 0.25        # crops tried: every multiple of 32 from the largest useful one down to a quarter
STEP_SHARE = 0.92       # of the step budget planned: the rest absorbs a slower machine
VAL_SHARE = 0.1         # periodic validations take at most this share of the budget
VAL_POINTS = 10         # about one every 10 % of the run (run_schedule.VAL_SHARE)
EXIT_S = 4.0            # after the last write: the result, the summary, the process's exit
WRITE_BYTES_PER_S = 80e6  # model + training state written at the end (a slow disk)
WRITE_FIXED_S = 1.0
SHORT_LR_SCALE = 1.5   # a from-scratch plan of fewer than FULL_STEPS steps trains at 1.5x the recipe's rate
MIN_MINUTES = 0.5       # below: the start alone takes most of it, whatever the machine
MAX_MINUTES = 7 * 24 * 60
SIZE_MULTIPLE = 32


@dataclass(frozen=True)
class StepCost:
    """Seconds of one training step: ``fixed_s + per_px_s × batch × size²`` (data and step)."""

    fixed_s: float
    per_px_s: float

    def seconds(self, size: int, batch: int) -> float:
        return self.fixed_s + self.per_px_s * batch * size * size

    @classmethod
    def fit(cls, points: Sequence[tuple[int, int, float]]) -> StepCost:
        """The cost through measured ``(size, batch, seconds)`` points: a line through two (the
        fixed part never negative), proportional through one."""
        if not points:
            raise ValueError("no measured step")
        pixels = [(b * s * s, t) for s, b, t in points]
        if len(pixels) == 1 or len({p for p, _ in pixels}) == 1:
            px, t = max(pixels)
            return cls(0.0, t / px)
        (p0, t0), (p1, t1) = min(pixels), max(pixels)
        slope = max((t1 - t0) / (p1 - p0), 0.0)
        fixed = t0 - slope * p0
        if fixed < 0 or slope == 0:  # noise: fall back to proportional through the larger point
            return cls(0.0, t1 / p1)
        return cls(fixed, slope)

    def scaled(self, factor: float) -> StepCost:
        """The same machine ``factor`` times slower (a busier moment, fewer threads)."""
        return StepCost(self.fixed_s * factor, self.per_px_s * factor)


@dataclass(frozen=True)
class Candidate:
    size: int
    batch: int


def round_down(value: float, multiple: int = SIZE_MULTIPLE) -> int:
    return max(multiple, int(value) // multiple * multiple)


def candidates(size: int, batch: int, image_longs: Sequence[int]) -> list[Candidate]:
    """(crop, batch) pairs in the order the planner prefers them (see the module docstring)."""
    longs = sorted(image_longs)
    if longs:  # a fifth below the images, but never so small that they would be shrunk (recipe.py)
        median = longs[len(longs) // 2]
        keeps_size = -(-math.ceil(median / 1.5) // SIZE_MULTIPLE) * SIZE_MULTIPLE
        top = min(size, max(round_down(CROP_SHARE * median), keeps_size))
    else:
        top = size
    top = round_down(top)
    lowest = min(top, max(MIN_SIZE, round_down(top * MIN_SHARE)))
    sizes = list(range(top, lowest - 1, -SIZE_MULTIPLE))
    batches = [batch]
    while batches[-1] // 2 >= MIN_BATCH:
        batches.append(batches[-1] // 2)
    return [Candidate(s, b) for b in batches for s in sizes]  # the user's batch first, crops from the largest


@dataclass
class Plan:
    """What a budgeted run does, and why (``notes``: one line each, for the run's notes)."""

    minutes: float
    size: int
    batch: int
    steps: int
    step_s: float           # planned seconds per step
    spent_s: float          # spent before the plan (start, imports, model, data)
    reserve_s: float        # reserved for validations, writing and the exit
    val_s: float = 0.0      # one validation's seconds, as planned
    write_s: float = 0.0    # the final writes' seconds, as planned
    fits: bool = True       # False: too short to learn anything (``reason`` says so)
    lr: float | None = None  # the learning rate chosen for a short from-scratch plan (short_run_lr)
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def planned_s(self) -> float:
        """The whole process, as planned."""
        return self.spent_s + self.steps * self.step_s + self.reserve_s

    def record(self) -> dict:
        """Plain values for history.json and the state file."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def write_seconds(model_bytes: int) -> float:
    """Writing the model and the training state (about 3× the model: weights and AdamW's moments)."""
    return WRITE_FIXED_S + 4 * model_bytes / WRITE_BYTES_PER_S


def reserve(budget_s: float, val_s: float, write_s: float) -> float:
    """Seconds kept for everything but the steps: the periodic validations (at most VAL_SHARE of the
    budget), the last one, the writes and the exit."""
    return min(VAL_POINTS * val_s, VAL_SHARE * budget_s) + val_s + write_s + EXIT_S


def steps_that_fit(seconds: float, step_s: float) -> int:
    """Steps of ``step_s`` seconds in ``seconds``, at STEP_SHARE."""
    if step_s <= 0 or seconds <= 0:
        return 0
    return int(seconds * STEP_SHARE / step_s)


def plan(minutes: float, spent_s: float, cost: StepCost, options: Sequence[Candidate],
         val_s: Callable[[Candidate], float], write_s: float) -> Plan:
    """The plan of a ``minutes`` budget of which ``spent_s`` are gone; ``val_s(candidate)`` is one
    validation's seconds at that candidate's working size, ``write_s`` the final writes'."""
    budget = minutes * 60.0
    best: Plan | None = None
    for i, option in enumerate(options):
        step_s, validation = cost.seconds(option.size, option.batch), val_s(option)
        kept = reserve(budget, validation, write_s)
        steps = steps_that_fit(budget - spent_s - kept, step_s)
        current = Plan(minutes, option.size, option.batch, steps, step_s, spent_s, kept, validation, write_s)
        smallest = i + 1 == len(options) or options[i + 1].batch != option.batch
        if steps >= CHOICE_STEPS or (smallest and steps >= MIN_STEPS):
            best = current  # the batch is kept while its smallest crop fits MIN_STEPS
            break
        if best is None or steps > best.steps:
            best = current
    if best is None:
        raise ValueError("no candidate to plan")
    return explain(best, options)


def explain(chosen: Plan, options: Sequence[Candidate]) -> Plan:
    """Fill in whether ``chosen`` fits and the lines that say why it was chosen."""
    first = options[0]
    took = f"{chosen.size} px crops, batch {chosen.batch}"
    smallest = min(c.size for c in options if c.batch == first.batch)
    if (chosen.size, chosen.batch) == (first.size, first.batch):
        why = ""
    elif chosen.batch != first.batch:
        why = f" (not batch {first.batch}: even {smallest} px crops would fit fewer than {MIN_STEPS} steps)"
    else:
        why = f" (not {first.size} px, batch {first.batch}: fewer than {CHOICE_STEPS} steps would fit)"
    chosen.notes = [
        f"time budget {format_minutes(chosen.minutes)}: {took}{why}, {chosen.steps} steps of "
        f"~{chosen.step_s:.2f} s",
        f"budget spent as: {chosen.spent_s:.0f} s start and data, {chosen.steps * chosen.step_s:.0f} s steps, "
        f"{chosen.reserve_s:.0f} s kept for validation, writing and exit",
    ]
    if chosen.lr is not None:
        chosen.notes.append(f"a short schedule from scratch: lr {chosen.lr:g} ({SHORT_LR_SCALE:g}x the recipe's, "
                            f"fewer than {FULL_STEPS} steps learn more at a higher rate)")
    if chosen.steps < MIN_STEPS:
        chosen.fits = False
        need = needed_minutes(chosen)
        chosen.reason = (f"a {format_minutes(chosen.minutes)} budget is too short to learn anything on this "
                         f"machine: {chosen.steps} steps fit, at least {MIN_STEPS} are needed "
                         f"(give at least {format_minutes(need)})")
    elif chosen.steps < FULL_STEPS:
        chosen.notes.append(f"{chosen.steps} steps is fewer than the {FULL_STEPS} that reach full quality on "
                            f"our benchmarks: a longer budget would learn more")
    return chosen


def needed_minutes(chosen: Plan) -> float:
    """The budget that would fit MIN_STEPS of ``chosen``'s step (rounded up to half minutes; the
    validations' reserve grows with the budget, hence the few rounds)."""
    minutes = math.floor(chosen.minutes * 2 + 1) / 2.0  # at least the next half minute
    for _ in range(20):
        kept = reserve(minutes * 60.0, chosen.val_s, chosen.write_s) if chosen.write_s else chosen.reserve_s
        seconds = chosen.spent_s + kept + (MIN_STEPS + 1) * chosen.step_s / STEP_SHARE
        needed = math.ceil(seconds / 30.0) / 2.0
        if needed <= minutes:
            return minutes
        minutes = needed
    return minutes


def short_run_lr(recipe_lr: float, steps: int) -> float | None:
    """The learning rate of a from-scratch run whose plan has ``steps`` steps and whose recipe (no
    rate given by the user) would train at ``recipe_lr``; None: the recipe's rate stands.

    A budget that buys fewer than FULL_STEPS steps trains at SHORT_LR_SCALE x the recipe's rate,
    still warmed up and decayed to zero at the planned last step. Measured on the generated texture
    set (B0 from scratch, 128 px x 8, the same steps, held-out mIoU, tests/benchmarks/budget_runs.py
    helpers): 300 steps at 1e-3 scored 0.493 / 0.534 / 0.601 for seeds 0 / 1 / 2, at 1.5e-3 0.578 /
    0.547 / 0.598 (mean 0.543 -> 0.574); 200 steps 0.397 -> 0.420; 2e-3 fell to 0.424 (300 steps,
    seed 0), as the recipe's 3e-3 stalls. On CamVid (61 photos trained, 40 held out, 400 steps of
    192 px x 2, what a 2-minute budget chooses there) 0.564 -> 0.576. Pretrained encoders keep
    their rate (a short fine-tune was not measured)."""
    if steps >= FULL_STEPS:
        return None
    return recipe_lr * SHORT_LR_SCALE


def check_minutes(minutes: float) -> str | None:
    """Why ``minutes`` cannot be a budget (one line), before anything is measured; None when it can."""
    if not math.isfinite(minutes) or minutes <= 0:
        return f"the time budget must be a positive number of minutes (got {minutes:g})"
    if minutes < MIN_MINUTES:
        return (f"a {format_minutes(minutes)} budget is too short to learn anything: starting and writing a "
                f"model alone take most of it (give at least {format_minutes(MIN_MINUTES)})")
    if minutes > MAX_MINUTES:
        return f"a time budget is at most {MAX_MINUTES} minutes (a week; got {minutes:g})"
    return None


def process_start() -> float:
    """When this process started (wall clock, seconds since the epoch; now where the system will not
    say). The command line's budget counts from it: the interpreter and imports are spent too."""
    started = platform_io.process_start(os.getpid())
    return started if started is not None and started <= time.time() else time.time()


def median_aspect(sizes: Sequence[tuple[int, int]]) -> float:
    """Median short/long side ratio of (height, width) ``sizes``: validation images keep their shape."""
    if not sizes:
        return 1.0
    ratios = sorted(min(h, w) / max(h, w) for h, w in sizes)
    return ratios[len(ratios) // 2]


def format_minutes(minutes: float) -> str:
    """"2 min", "1.5 min", "45 s"."""
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    return f"{minutes:g} min"


GUARD_SHARE = 0.97      # of the seconds left that a re-plan fills (the pace is measured, not guessed)
GUARD_SLACK = 0.02      # a plan ending early by less than this share is not made longer
GUARD_CEILING = 2.0     # a plan is never made longer than this many times the first one
GUARD_DAMPED = 0.3      # while more than this share of the budget is left, a re-plan moves half-way


def replanned(step: int, total: int, left_s: float, step_s: float, first_total: int,
              damped: bool = False) -> int | None:
    """The planned total that ends in ``left_s`` seconds (steps left at ``step_s`` each), or None
    when ``total`` already does within GUARD_SLACK. Never below ``step + 1``, never above
    GUARD_CEILING × ``first_total``. ``damped`` (early in a run, when a burst of load or the thread
    trials of cpu_threads.py can make a few steps slow) moves only half-way there: the next checks
    move the rest if the pace holds."""
    if step_s <= 0:
        return None
    fitting = step + max(1, int(max(left_s, 0.0) * GUARD_SHARE / step_s))
    if damped:
        fitting = max(step + 1, (fitting + total) // 2)
    fitting = min(fitting, max(total, int(GUARD_CEILING * first_total)))
    if fitting == total or total < fitting <= total * (1 + GUARD_SLACK):
        return None  # late is never let be; early by a little is not worth a change
    return fitting


def reserve_left(val_s: float, validations_left: int, write_s: float) -> float:
    """Seconds the end still needs: the validations to come (the last one included), the writes
    and the exit."""
    return val_s * max(1, validations_left) + write_s + EXIT_S
