"""The files a training run writes in ``models/NAME``, and when: the model, the state, history.json.

* **the model** (model.safetensors + config.json): the weights of the best validation point (or of
  the last one, when the recipe keeps the last), held in memory when validation picks them and
  written at most every ``run_schedule.MODEL_WRITE_S`` seconds, and always at the end, on stop
  and on failure; a stopped run with no validation yet writes its current weights;
* **the training state** (training_state.pt: model, optimiser, RNG): at the end, on stop, on
  failure and as the schedule's periodic safety copy, removed after a finished run unless kept;
* **history.json**: after every validation and with every state.

When is :class:`.run_schedule.RunSchedule`'s rule; the seconds spent writing are the run's
``checkpoints_s``. Every write goes through :func:`segstudio.core.paths.model_folder`, which
refuses a ``models`` or ``models/NAME`` that became a link since the run started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from segstudio.core.paths import model_folder
from segstudio.model.weights.checkpoints import save_model
from segstudio.model.weights.model_files import STATE_FILE, WEIGHTS

from .history import write_history
from .run_schedule import RunSchedule
from .state import save_state


class CheckpointWriter:
    """A run's files: the pending best weights, and the writes :class:`RunSchedule` allows."""

    def __init__(self, save_dir: str | Path, name: str, timing: dict[str, float]) -> None:
        self.save_dir, self.name = save_dir, name
        self.folder = model_folder(save_dir, name)  # checked again when written
        self.timing = timing  # the run's; the writes add to "checkpoints_s"
        self.schedule: RunSchedule | None = None  # set by start(): nothing is written before
        self.pending: dict[str, torch.Tensor] | None = None  # the model's weights, not yet on disk

    def start(self, schedule: RunSchedule) -> None:
        """The run is planned: from now on its files may be written, on ``schedule``."""
        self.schedule = schedule

    @property
    def started(self) -> bool:
        return self.schedule is not None

    def make_folder(self) -> None:
        """Create the model folder, refusing (LinkedStateFolderError) a ``models`` or ``models/NAME``
        that became a link since the run started: every file of the run is written in it."""
        self.folder = model_folder(self.save_dir, self.name, create=True)

    def keep(self, model: nn.Module) -> None:
        """Hold a copy of ``model``'s weights as the model, to be written when the schedule allows."""
        self.pending = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def write_model(self, config: Any, info: Any) -> None:
        """Write the weights held in memory, if newer than model.safetensors."""
        if self.pending is None:
            return
        save_model(self.folder, _Weights(config, self.pending), info)
        self.pending = None
        self.schedule.model_written()

    def write_history(self, history: list[dict[str, Any]], extra: dict[str, Any]) -> None:
        write_history(self.folder, history, extra)

    def save_state(self, state: Callable[[], dict[str, Any]], config: Any, info: Any) -> None:
        """The resumable state (``state()``) and any model not yet written (end, stop, failure and
        the periodic safety copy); history.json is the caller's to write next."""
        started = time.perf_counter()
        self.make_folder()
        self.write_model(config, info)
        save_state(self.folder, state())
        self.schedule.state_written()
        self.timing["checkpoints_s"] += time.perf_counter() - started

    def validated(self, config: Any, info: Any, history: list[dict[str, Any]],
                  extra: Callable[[], dict[str, Any]]) -> None:
        """After a validation point: the model when a write is due, and history.json."""
        started = time.perf_counter()
        if self.schedule.model_write_due():
            self.write_model(config, info)
        self.write_history(history, extra())
        self.timing["checkpoints_s"] += time.perf_counter() - started

    def safety_due(self) -> bool:
        return self.schedule.safety_due()

    def ensure_model(self, model: nn.Module, info: Any) -> None:
        """A stopped run leaves a usable model even before its first validation."""
        if not (self.folder / WEIGHTS).exists():
                save_model(self.folder, model, info)

    def drop_state(self) -> None:
        """Remove the state file of a finished run (the model and history.json stay)."""
        (self.folder / STATE_FILE).unlink(missing_ok=True)


class _Weights:
    """A model's config and a snapshot of its weights: what save_model needs to write a best model
    kept in memory while the live model trains on."""

    def __init__(self, config: Any, state: dict[str, torch.Tensor]) -> None:
        self.config, self._state = config, state

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self._state
