"""Fine-tune (or train from scratch) a SegFormer on the labelled images of a project.

``train(project, config, on_progress, on_epoch, should_stop) -> TrainResult`` is the whole API. It
takes plain callables so the GUI can run it in a worker thread and the command line in the main
thread; it never prints. The same function runs under ``torchrun`` (see ``distributed.py``).

Defaults are chosen per run by :mod:`segstudio.model.recipe` from the situation (from scratch
or pretrained, how many images, image size vs crop size); every setting given explicitly wins.

Outputs go to ``<save_dir>/models/<name>/``: ``model.safetensors`` + ``config.json`` (best
validation mIoU), ``training_state.pt`` (last state, resumable), ``history.json``. When they are
written (and when the run validates) is :mod:`segstudio.model.run_schedule`'s rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from segstudio.core.errors import TrainingError

from . import distributed as dist_util


DEFAULT_STEPS = 2000  # when neither epochs nor steps is given
MAX_SIZE = 4096        # training crop side: far above any GPU's memory for a batch of crops
MAX_BATCH = 4096
MAX_STEPS = 10_000_000


@dataclass
class TrainConfig:
    """Settings of one run. ``epochs`` and ``steps`` are exclusive; with neither, about
    ``DEFAULT_STEPS`` optimiser steps rounded up to whole epochs. ``None`` (lr, head_lr_mult,
    scale_range, val_every) lets :mod:`segstudio.model.recipe` / ``run_schedule`` choose.
    ``model_config`` (tests, experiments) builds a randomly initialised model of that
    architecture instead of loading ``init``."""

    init: str = "b0"
    epochs: int | None = None
    steps: int | None = None
    size: int = 512
    batch: int = 8
    lr: float | None = None
    loss: str = "ce"
    class_weights: bool | list[float] = False
    label_smoothing: float = 0.0
    device: str = "auto"
    name: str = "model"
    seed: int = 0
    num_workers: int = 0
    val_fraction: float = 0.2
    resume: bool = False
    overwrite: bool = False                    # False: an existing models/<name> gets a fresh name
    grad_clip: float | None = None
    amp: bool = True
    # beyond the contract
    model_config: Any = None                   # SegFormerConfig | None
    warmup_steps: int | None = None            # None = schedule.default_warmup
    weight_decay: float = 0.01
    head_lr_mult: float | None = None          # None = recipe (10 pretrained, 1 from scratch)
    class_weight_method: str = "median"        # or "inv_sqrt"
    scale_range: tuple[float, float] | None = None  # None = recipe
    augment: bool = True                       # False: no resize, flip or colour jitter (overfit checks)
    val_every: int | None = None               # epochs; None = about every 10 % of the run
    memory_budget: int | None = None           # bytes of decoded images held in memory; None = auto
    progress_interval_s: float = 0.1

    def is_scratch(self) -> bool:
        """True when the encoder starts random (a variant name that is not a file, or model_config)."""
        if self.model_config is not None:
            return True
        from .segformer import VARIANTS
        key = str(self.init).strip().lower().removeprefix("mit-").removeprefix("segformer-")
        return key in VARIANTS and not Path(self.init).exists()


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


ProgressFn = Callable[[TrainProgress], None]
EpochFn = Callable[[EpochSummary], None]
StopFn = Callable[[], bool]


def train(project: Any, config: TrainConfig, on_progress: ProgressFn | None = None,
          on_epoch: EpochFn | None = None, should_stop: StopFn | None = None) -> TrainResult:
    """Train on ``project``'s labelled images; see the module docstring.

    Raises :class:`TrainingError` for unusable input (no labelled images, a single class, bad
    settings). Problems during the run (a corrupt file, out of memory, an exception) end it with
    status "failed" and the last state saved; a stop request ends it with "stopped", state saved.
    """
    _check_config(config)
    from .device import pick_device
    from .train_loop import Loop
    try:
        device = pick_device(config.device)
    except ValueError as exc:  # no such device on this machine
        raise TrainingError(str(exc)) from None
    config, note = claim_model_folder(Path(project.save_dir) / "models", config)
    ctx = dist_util.setup(device)
    try:
        loop = Loop(project, config, ctx, on_progress, on_epoch, should_stop)
        result = loop.run()
    finally:
        dist_util.teardown(ctx)
    if note:
        result.notes.insert(0, note)
    return result


def claim_model_folder(models_dir: Path, config: TrainConfig) -> tuple[TrainConfig, str | None]:
    """The config with a model name whose folder this run may write, and a note when it changed.

    A finished model is never replaced by a new run: when ``models/<name>`` exists (and is not
    empty) and the run neither resumes it nor was told to ``overwrite`` it, the run goes to the
    first free ``<name>-2``, ``<name>-3``...
    """
    folder = models_dir / config.name
    if config.resume or config.overwrite or not _occupied(folder):
        return config, None
    k = 2
    while _occupied(models_dir / f"{config.name}-{k}") or (models_dir / f"{config.name}-{k}").is_file():
        k += 1
    fresh = f"{config.name}-{k}"
    return replace(config, name=fresh), (f"{folder} exists and was kept: this run is saved as "
                                         f"{models_dir / fresh} (--overwrite replaces, --resume continues)")


def _occupied(folder: Path) -> bool:
    if folder.is_symlink() or folder.is_file():
        return True
    return folder.is_dir() and any(folder.iterdir())


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
        from .segformer import SegFormerConfig
        values["model_config"] = SegFormerConfig.from_dict(record["model_config"])
    return TrainConfig(**{**values, **live})


def _check_config(config: TrainConfig) -> None:
    """Reject settings that cannot work, before any file is read."""
    if config.epochs is not None and config.steps is not None:
        raise TrainingError("give either epochs or steps, not both")
    for name in ("epochs", "steps"):
        value = getattr(config, name)
        if value is not None and value < 1:
            raise TrainingError(f"{name} must be at least 1 (got {value})")
        if value is not None and value > MAX_STEPS:
            raise TrainingError(f"{name} {value} is out of range (at most {MAX_STEPS})")
    if config.size < 32 or config.size % 32 or config.size > MAX_SIZE:
        raise TrainingError(f"training size must be a multiple of 32 from 32 to {MAX_SIZE} (got {config.size})")
    if not 1 <= config.batch <= MAX_BATCH:
        raise TrainingError(f"batch size must be from 1 to {MAX_BATCH} (got {config.batch})")
    if config.grad_clip is not None and not (math.isfinite(config.grad_clip) and config.grad_clip > 0):
        raise TrainingError(f"gradient clipping norm must be a positive number (got {config.grad_clip})")
    if config.num_workers < 0:
        raise TrainingError(f"the number of data workers cannot be negative (got {config.num_workers})")
    if config.lr is not None and not (0 < config.lr < 1):  # NaN fails too
        raise TrainingError(f"learning rate {config.lr} is out of range (0, 1)")
    if not 0.0 <= config.label_smoothing < 1.0:
        raise TrainingError(f"label smoothing must be in [0, 1) (got {config.label_smoothing})")
    if not config.name or Path(config.name).name != config.name or config.name in (".", ".."):
        raise TrainingError(f"model name {config.name!r} must be a plain folder name")
    try:
        from .losses import parse_loss_spec
        parse_loss_spec(config.loss)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None


def summary_from_dict(data: dict[str, Any]) -> EpochSummary:
    """Inverse of ``asdict(summary)`` (history stored in state files and history.json)."""
    nan = float("nan")
    return EpochSummary(int(data["epoch"]), float(data["train_loss"]),
                        nan if data["val_miou"] is None else float(data["val_miou"]),
                        nan if data["val_pixel_accuracy"] is None else float(data["val_pixel_accuracy"]),
                        list(data["val_iou"]), float(data["seconds"]), float(data.get("lr", 0.0)),
                        int(data.get("step", 0)), float(data.get("elapsed", 0.0)))


def nan_to_none(values: Sequence[float]) -> list[float | None]:
    return [None if (v is None or math.isnan(v)) else float(v) for v in values]


__all__ = ["TrainConfig", "TrainProgress", "EpochSummary", "TrainResult", "train", "TrainingError",
           "DEFAULT_STEPS"]
