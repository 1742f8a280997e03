"""The types of a training run, without torch: settings, progress, validation points, result.

The window builds a :class:`TrainConfig` from its form and shows :class:`TrainProgress` /
:class:`EpochSummary` on the GUI thread, where importing torch would freeze it for a second; the
command line and the trainer use the same classes. ``run_options`` / ``config_from_options`` turn
the settings that define a run into a plain record (stored in its state file, so that a resume
continues it exactly) and back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .options import DEFAULT_STEPS
from .options import default as _default


@dataclass
class TrainConfig:
    """Settings of one run; the defaults of the options a user sets come from the table in
    :mod:`segstudio.model.training.options` (the command line and the window read the same).
    ``epochs``, ``steps`` and ``minutes`` (a time budget: budget.py) are exclusive; with none, about
    ``DEFAULT_STEPS`` optimiser steps rounded up to whole epochs. ``None`` (lr, head_lr_mult,
    scale_range, val_every) lets :mod:`segstudio.model.training.recipe` / ``run_schedule`` choose.
    ``model_config`` (tests, experiments) builds a randomly initialised model of that
    architecture instead of loading ``init``."""

    init: str = _default("init")
    epochs: int | None = _default("epochs")
    steps: int | None = _default("steps")
    minutes: float | None = _default("minutes")  # a time budget instead of epochs or steps (budget.py)
    size: int = _default("size")
    batch: int = _default("batch")
    lr: float | None = _default("lr")
    loss: str = _default("loss")
    class_weights: bool | list[float] = _default("class_weights")
    label_smoothing: float = _default("label_smoothing")
    device: str = _default("device")
    name: str = _default("name")
    seed: int = _default("seed")
    num_workers: int = _default("num_workers")
    val_fraction: float | None = None          # None = core.validation_split's rule
    keep_state: bool = _default("keep_state")  # False: a finished run drops what only a resume needs
    resume: bool = False
    overwrite: bool = False                    # False: an existing models/<name> gets a fresh name
    grad_clip: float | None = _default("grad_clip")
    amp: bool = _default("amp")
    # beyond the contract
    model_config: Any = None                   # SegFormerConfig | None
    warmup_steps: int | None = None            # None = schedule.default_warmup
    weight_decay: float = 0.01
    head_lr_mult: float | None = None          # None = recipe (10 pretrained, 1 from scratch)
    class_weight_method: str = "median"        # or "inv_sqrt"
    scale_range: tuple[float, float] | None = None  # None = recipe
    augment: bool = _default("augment")  # False: no resize, flip or colour jitter (overfit checks)
    val_every: int | None = None               # epochs; None = about every 10 % of the run
    memory_budget: int | None = None           # bytes of decoded images held in memory; None = auto
    progress_interval_s: float = 0.1
    budget_start: float | None = None          # when the budget's clock started (time.time()); None = now

    def is_scratch(self) -> bool:
        """True when the encoder starts random (a bare variant name b0..b5 that is not a file, or
        model_config). ``mit-b0`` and the like name pretrained checkpoints, not random weights."""
        if self.model_config is not None:
            return True
        from segstudio.model.segformer import VARIANTS
        return str(self.init).strip().lower() in VARIANTS and not Path(self.init).exists()


@dataclass
class TrainProgress:
    """A throttled progress report (at most ~10 per second, plus the last step of each epoch)."""

    epoch: int
    epochs: int
    step: int
    total_steps: int
    loss: float
    lr: float
    images_per_s: float
    eta_s: float


@dataclass
class EpochSummary:
    """One validation point (the end of ``epoch``, at ``step``): mean training loss since the previous
    point and validation metrics (per-class IoU, None = no pixels); ``elapsed`` is seconds since
    the run started (this session)."""

    epoch: int
    train_loss: float
    val_miou: float
    val_pixel_accuracy: float
    val_iou: list[float | None]
    seconds: float
    lr: float = 0.0
    step: int = 0
    elapsed: float = 0.0


@dataclass
class TrainResult:
    """How a run ended: ``status`` is "finished", "stopped" or "failed"; ``message`` says why."""

    status: str
    message: str
    model_dir: Path | None
    best_miou: float
    history: list[EpochSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# The settings that define a run: recorded in its state file so that a resume continues it exactly.
RUN_FIELDS = ("init", "epochs", "steps", "size", "batch", "lr", "loss", "class_weights",
              "label_smoothing", "seed", "val_fraction", "grad_clip", "amp", "warmup_steps",
              "weight_decay", "head_lr_mult", "class_weight_method", "scale_range", "augment",
              "val_every")


def run_options(config: TrainConfig) -> dict[str, Any]:
    """Plain (weights_only-loadable) record of the settings that define ``config``'s run."""
    record: dict[str, Any] = {name: getattr(config, name) for name in RUN_FIELDS}
    if config.scale_range is not None:  # None: the recipe chooses (and chooses the same on resume)
        record["scale_range"] = [float(v) for v in config.scale_range]
    if isinstance(config.class_weights, (list, tuple)):
        record["class_weights"] = [float(w) for w in config.class_weights]
    if config.model_config is not None:
        record["model_config"] = config.model_config.to_dict()
    return record


def config_from_options(record: dict[str, Any], **live: Any) -> TrainConfig:
    """The :class:`TrainConfig` a recorded run had, with ``live`` settings (device, workers...)."""
    values = {name: record[name] for name in RUN_FIELDS if name in record}
    if values.get("scale_range") is not None:
        values["scale_range"] = tuple(values["scale_range"])
    if record.get("model_config") is not None:
        from segstudio.model.segformer import SegFormerConfig
        values["model_config"] = SegFormerConfig.from_dict(record["model_config"])
    return TrainConfig(**{**values, **live})


def summary_from_dict(data: dict[str, Any]) -> EpochSummary:
    """Inverse of ``asdict(summary)`` (history stored in state files and history.json)."""
    nan = float("nan")
    return EpochSummary(int(data["epoch"]), float(data["train_loss"]),
                        nan if data["val_miou"] is None else float(data["val_miou"]),
                        nan if data["val_pixel_accuracy"] is None else float(data["val_pixel_accuracy"]),
                        list(data["val_iou"]), float(data["seconds"]), float(data.get("lr", 0.0)),
                        int(data.get("step", 0)), float(data.get("elapsed", 0.0)))


def history_entry(data: dict[str, Any]) -> dict[str, Any]:
    """One validation point read back from a state file, as plain numbers (the ``asdict`` of its
    :class:`EpochSummary`): KeyError, TypeError or ValueError when it is not one."""
    if not isinstance(data, dict):
        raise TypeError(f"a history entry is a {type(data).__name__}, not a validation point")
    entry = asdict(summary_from_dict(data))
    entry["val_iou"] = [None if v is None else float(v) for v in entry["val_iou"]]
    return entry


def nan_to_none(values: Sequence[float]) -> list[float | None]:
    return [None if (v is None or math.isnan(v)) else float(v) for v in values]


__all__ = ["DEFAULT_STEPS", "TrainConfig", "TrainProgress", "EpochSummary", "TrainResult", "RUN_FIELDS",
           "run_options", "config_from_options", "summary_from_dict", "history_entry", "nan_to_none"]
