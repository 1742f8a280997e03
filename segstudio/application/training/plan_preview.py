"""The training form's plan, kept current as the form changes (no Qt; torch only on a worker).

The figures come from the last run's measured pace (its history.json, same device and model size)
or, when there is none, from a short probe on the "plan" pool (a few steps of a random model of
the chosen size: model/training/budget_probe.probe_machine, a few seconds, once per device and
model size in a session). Until the probe answers the plan says it is measuring. Each change of the
form is then plain arithmetic (run_plan.form_plan) and announced as ``changed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from psygnal import Signal

from segstudio.application.pools import Pools
from segstudio.application.session.controller import ProjectSession
from segstudio.application.training.model_registry import list_models, read_history
from segstudio.application.training.run_plan import FormPlan, MachineCost, form_plan, from_history, measured

VARIANTS = ("b0", "b1", "b2", "b3", "b4", "b5")
MEASURING = "Measuring a training step on this machine…"


def variant_of(init: str) -> str:
    """The model size a form's start means: a variant name, else B0 (auto, and the usual checkpoints)."""
    name = str(init).strip().lower()
    return name if name in VARIANTS else "b0"


def probe_job(variant: str, device: str) -> dict[str, Any]:
    """On a worker: load torch without freezing the window, then measure (budget_probe)."""
    from segstudio.application.runtime import load_optimiser_machinery

    load_optimiser_machinery()
    import torch

    from segstudio.application.training.train_run import gui_thread_count
    from segstudio.model.device import pick_device
    from segstudio.model.training.budget_probe import probe_machine

    if pick_device(device).type == "cpu":
        torch.set_num_threads(gui_thread_count())  # as the window's runs train
    return probe_machine(variant, device)


class PlanPreview:
    """What the form's run will do and how long it will take (``plan``, announced as ``changed``)."""

    changed = Signal(object)  # FormPlan

    def __init__(self, session: ProjectSession, pools: Pools) -> None:
        self._session = session
        self._pool = pools.pool("plan")
        self._values: dict[str, Any] = {}
        self._measured: dict[tuple[str, str], MachineCost | str] = {}  # a cost, or why it failed
        self._probing: set[tuple[str, str]] = set()
        self._sizes: dict[Path, tuple[int, int] | None] = {}
        self._history: MachineCost | None = None
        self._history_key: tuple[str, str] = ("", "")  # (variant, device) of the last run's pace
        self._history_read = False
        self.plan: FormPlan | None = None
        session.project_opened.connect(self.invalidate)

    def invalidate(self) -> None:
        """A run ended or another folder opened: the last run's pace and the labelled images are read
        again, and the plan of the form as it was is announced again."""
        self._history_read = False
        self._sizes.clear()
        if self._values:
            self.update(self._values)

    def update(self, values: Mapping[str, Any]) -> FormPlan:
        """The plan of the form's ``values``; starts the probe when nothing measured this machine."""
        self._values = dict(values)
        key = (variant_of(str(values.get("init", "auto"))), str(values.get("device", "auto")))
        machine = self._measured.get(key) or self._last_run(key)
        sizes = self._labelled_sizes()
        if not sizes:  # nothing to plan: nothing measured either
            plan = form_plan(values, sizes, machine) if isinstance(machine, MachineCost) else \
                FormPlan("Label some images first: the plan counts the labelled ones.")
        elif machine is None:
            self._probe(key)
            plan = FormPlan(MEASURING)
        elif isinstance(machine, str):
            plan = FormPlan(f"The plan is not known: measuring this machine failed ({machine}).")
        else:
            plan = form_plan(values, sizes, machine)
        self.plan = plan
        self.changed.emit(plan)
        return plan

    def refusal(self, values: Mapping[str, Any]) -> str | None:
        """Why Train should refuse ``values`` (a budget too short to learn anything), else None."""
        if not values.get("minutes"):
            return None
        return self.update(values).refusal or None

    # --- figures ---------------------------------------------------------------------------------
    def _last_run(self, key: tuple[str, str]) -> MachineCost | None:
        """The newest run's measured pace, when it ran the same model size where "auto" or the
        form's device choice puts it."""
        if not self._history_read:
            self._history_read, self._history = True, None
            project = self._session.project
            for record in list_models(project.save_dir) if project is not None else []:
                history = read_history(record.path)
                pace = (history or {}).get("pace")
                cost = from_history(history, f"models/{record.name}")
                if cost is not None and isinstance(pace, dict):
                    self._history = cost
                    self._history_key = (str(pace.get("variant") or "b0"), cost.device)
                    break
        if self._history is None:
            return None
        variant, device = self._history_key
        return self._history if key[0] == variant and key[1] in ("auto", device) else None

    def _probe(self, key: tuple[str, str]) -> None:
        if key in self._probing:
            return
        self._probing.add(key)
        self._pool.submit(probe_job, *key, on_done=lambda done: self._probed(key, done))

    def _probed(self, key: tuple[str, str], future: Future) -> None:
        self._probing.discard(key)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self._measured[key] = " ".join(str(error).split())[:200] or type(error).__name__
        else:
            self._measured[key] = measured(future.result())
        if self._values:
            self.update(self._values)

    def _labelled_sizes(self) -> list[tuple[int, int]]:
        """(height, width) of each labelled image, read from its header once."""
        from segstudio.core.errors import SegStudioError
        from segstudio.core.images import image_size

        project = self._session.project
        if project is None:
            return []
        sizes = []
        for entry in project.labelled_entries():
            path = Path(entry.image_path)
            if path not in self._sizes:
                try:
                    width, height = image_size(path)
                    self._sizes[path] = (height, width)
                except (OSError, SegStudioError):
                    self._sizes[path] = None
            size = self._sizes[path]
            if size is not None:
                sizes.append(size)
        return sizes
