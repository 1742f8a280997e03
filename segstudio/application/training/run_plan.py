"""What the training form's run will do on this machine, and how long it will take (no Qt, no torch).

Shown before the click on Train: "About 2000 steps of 512 px crops, batch 8: about 2:46:00 on
this CPU". A run sized in steps or epochs is timed with the machine's cost of a step (measured by
a short probe, or the last run's measured pace from its history.json: :class:`MachineCost`); a
time budget is planned by the engine's own rule (model/training/budget.py), so the form and
``--minutes`` agree. When a run would take more than ``WARN_S`` on a CPU the plan says so and
offers a budget of ``OFFER_MINUTES`` (one click in the form switches to it); a budget too short to
learn anything is refused before the run starts, in the engine's words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from segstudio.application.training.run_outcome import format_eta
from segstudio.core.validation_split import validation_count
from segstudio.model.training import budget
from segstudio.model.training.budget import Candidate, StepCost
from segstudio.model.training.options import DEFAULT_STEPS, default
from segstudio.model.training.recipe import working_size

WARN_S = 20 * 60          # a CPU run longer than this is worth a word before the click
OFFER_MINUTES = 10        # the budget offered instead, and a fresh form's length (a GPU's: automatic)
SETUP_S = 10.0            # start, torch, the model and the data, when nothing measured it


@dataclass(frozen=True)
class MachineCost:
    """What a step costs on this machine and where the figure comes from (``source``, for the user)."""

    cost: StepCost
    device: str                # "cpu", "cuda", "mps"
    forward_px_s: float        # seconds per pixel of a validation forward pass
    model_bytes: int
    source: str                # "measured just now with B0", "from the last run, models/x"
    setup_s: float = SETUP_S

    @property
    def on_cpu(self) -> bool:
        return self.device == "cpu"


@dataclass(frozen=True)
class FormPlan:
    """The plan the form shows: ``text``; ``warning`` and ``offer_minutes`` when the run is long on a
    CPU; ``refusal`` when a budget is too short to learn anything (Train is then refused)."""

    text: str
    warning: str = ""
    offer_minutes: float | None = None
    refusal: str = ""
    seconds: float = math.nan
    device: str = ""          # where the figures were measured ("": not yet)


def fresh_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A form never saved before starts with a time budget: most people who label at a desk train on
    a CPU, where the automatic length takes hours (the form goes back to it if a GPU is found)."""
    if any(values.get(name) for name in ("epochs", "steps", "minutes")):
        return dict(values)
    return {**values, "minutes": OFFER_MINUTES}


def measured(probe: Mapping[str, Any]) -> MachineCost:
    """The cost from budget_probe.probe_machine's answer."""
    points = [(int(s), int(b), float(t)) for s, b, t in probe["measured"]]
    return MachineCost(StepCost.fit(points), str(probe["device"]), float(probe["forward_px_s"]),
                       int(probe["model_bytes"]), f"measured just now with {probe['variant'].upper()}")


def from_history(history: Mapping[str, Any] | None, name: str) -> MachineCost | None:
    """The cost of the last run's measured steps (history.json "pace"), or None when it has none."""
    pace = (history or {}).get("pace")
    if not isinstance(pace, dict):
        return None
    numbers = [pace.get("size"), pace.get("batch"), pace.get("step_s")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in numbers):
        return None
    size, batch, step_s = (float(v) for v in numbers if isinstance(v, (int, float)))
    cost = StepCost.fit([(int(size), int(batch), step_s)])
    setup = pace.get("setup_s")
    return MachineCost(cost, str(pace.get("device") or "cpu"), cost.per_px_s / 3, 15_000_000,
                       f"from the last run, {name}", float(setup) if isinstance(setup, (int, float)) else SETUP_S)


def split_counts(labelled: int) -> tuple[int, int]:
    """(training, validation) images of ``labelled`` ones, as the engine splits them."""
    if labelled <= 1:
        return labelled, labelled
    val = validation_count(labelled)
    return labelled - val, val


def length_in_steps(values: Mapping[str, Any], train_images: int) -> int:
    """Steps of a run sized in steps or epochs (the engine's rule: whole epochs of full batches)."""
    per_epoch = max(1, train_images // max(1, int(values.get("batch") or default("batch"))))
    if values.get("steps"):
        return int(values["steps"])
    if values.get("epochs"):
        return int(values["epochs"]) * per_epoch
    return math.ceil(DEFAULT_STEPS / per_epoch) * per_epoch


def _validation_s(machine: MachineCost, val_images: int, ref: int, aspect: float) -> float:
    return val_images * machine.forward_px_s * ref * ref * aspect


def form_plan(values: Mapping[str, Any], sizes: Sequence[tuple[int, int]], machine: MachineCost) -> FormPlan:
    """The plan of the form's ``values`` on labelled images of (height, width) ``sizes``."""
    return replace(_form_plan(values, sizes, machine), device=machine.device)


def _form_plan(values: Mapping[str, Any], sizes: Sequence[tuple[int, int]], machine: MachineCost) -> FormPlan:
    if not sizes:
        return FormPlan("Label some images first: the plan counts the labelled ones.")
    train, val = split_counts(len(sizes))
    size, batch = int(values.get("size") or default("size")), int(values.get("batch") or default("batch"))
    aspect = budget.median_aspect(sizes)
    write_s = budget.write_seconds(machine.model_bytes)
    where = "this CPU" if machine.on_cpu else f"this {machine.device.upper()} device"
    if values.get("minutes"):
        return _budget_plan(float(values["minutes"]), size, batch, sizes, val, aspect, write_s, machine, where)
    steps = length_in_steps(values, train)
    ref = working_size(sizes, size)
    validations = budget.VAL_POINTS + 1
    seconds = (machine.setup_s + steps * machine.cost.seconds(size, batch)
               + validations * _validation_s(machine, val, ref, aspect) + write_s + budget.EXIT_S)
    text = (f"About {steps} steps of {size} px crops, batch {batch} on {train} training images: "
            f"about {format_eta(seconds)} on {where} (step time {machine.source}).")
    if machine.on_cpu and seconds > WARN_S:
        return FormPlan(text, f"That is more than {WARN_S // 60} minutes on a CPU. A time budget fits the run "
                        f"to the machine: a {OFFER_MINUTES}-minute budget chooses the crop, batch and steps "
                        "that end on time.", OFFER_MINUTES, seconds=seconds)
    return FormPlan(text, seconds=seconds)


def _budget_plan(minutes: float, size: int, batch: int, sizes: Sequence[tuple[int, int]], val: int,
                 aspect: float, write_s: float, machine: MachineCost, where: str) -> FormPlan:
    reason = budget.check_minutes(minutes)
    if reason:
        return FormPlan(f"A {budget.format_minutes(minutes)} time budget.", refusal=reason)
    options = budget.candidates(size, batch, [max(h, w) for h, w in sizes])

    def val_s(option: Candidate) -> float:
        return _validation_s(machine, val, working_size(sizes, option.size), aspect)

    plan = budget.plan(minutes, machine.setup_s, machine.cost, options, val_s, write_s)
    if not plan.fits:
        return FormPlan(f"A {budget.format_minutes(minutes)} time budget on {where}.", refusal=plan.reason[0].upper()
                        + plan.reason[1:] + ".", seconds=plan.planned_s)
    text = (f"A {budget.format_minutes(minutes)} time budget on {where}: {plan.size} px crops, batch "
            f"{plan.batch}, about {plan.steps} steps (step time {machine.source}); the run measures "
            "again as it starts and ends on time.")
    more = "" if plan.steps >= budget.FULL_STEPS else \
        f" Fewer than {budget.FULL_STEPS} steps fit: a longer budget would learn more."
    return FormPlan(text + more, seconds=plan.planned_s)

