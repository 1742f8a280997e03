"""Fine-tune (or train from scratch) a SegFormer on the labelled images of a project.

``train(project, config, on_progress, on_epoch, should_stop) -> TrainResult`` is the whole API. It
takes plain callables so the GUI can run it in a worker thread and the command line in the main
thread; it never prints. The same function runs under ``torchrun`` (see ``distributed.py``).

Defaults are chosen per run by :mod:`segstudio.model.training.recipe` from the situation (from scratch
or pretrained, how many images, image size vs crop size); every setting given explicitly wins.

The types (:class:`TrainConfig`, :class:`TrainResult`...) live in :mod:`segstudio.model.training.types`,
which imports no torch, so the window can build a config and show progress without loading it.

Outputs go to ``<save_dir>/models/<name>/`` (a real folder: never written through a link at
``models`` or ``<name>``, see ``core.paths.model_folder``): ``model.safetensors`` + ``config.json`` (the best
validation point, or the final weights when few images validate: recipe.py),
``training_state.pt`` (last state, resumable), ``history.json``. When they are written (and when
the run validates) is :mod:`segstudio.model.training.run_schedule`'s rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from segstudio.core.errors import TrainingError
from segstudio.core.paths import MODELS_FOLDER, model_folder

from . import distributed as dist_util
from .options import check_limits
from .types import DEFAULT_STEPS, EpochSummary, TrainConfig, TrainProgress, TrainResult

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
    from segstudio.model.device import pick_device

    from .loop import Loop
    try:
        device = pick_device(config.device)
    except ValueError as exc:  # no such device on this machine
        raise TrainingError(str(exc)) from None
    config, note = claim_model_folder(Path(project.save_dir) / MODELS_FOLDER, config)
    model_folder(project.save_dir, config.name)  # never written through a link (models, or models/NAME)
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


def _check_config(config: TrainConfig) -> None:
    """Reject settings that cannot work, before any file is read (limits: the options table)."""
    if config.epochs is not None and config.steps is not None:
        raise TrainingError("give either epochs or steps, not both")
    if config.minutes is not None and (config.epochs is not None or config.steps is not None):
        raise TrainingError("give either a time budget (minutes) or a length (epochs or steps), not both")
    if config.minutes is not None and config.resume:
        raise TrainingError("a resumed run continues its recorded plan: it takes no new time budget")
    if config.minutes is not None:
        from .budget import check_minutes
        reason = check_minutes(config.minutes)
        if reason:
            raise TrainingError(reason)
    check_limits({name: getattr(config, name) for name in ("epochs", "steps", "minutes", "size", "batch", "lr", "seed",
                                                           "label_smoothing", "grad_clip", "num_workers")})
    if not config.name or Path(config.name).name != config.name or config.name in (".", ".."):
        raise TrainingError(f"model name {config.name!r} must be a plain folder name")
    if len(config.name.encode("utf-8", "surrogateescape")) > 255:  # the longest name a file system takes
        raise TrainingError(f"model name {config.name[:40]}… is too long (at most 255 bytes)")
    try:
        from .losses import parse_loss_spec
        parse_loss_spec(config.loss)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None


__all__ = ["TrainConfig", "TrainProgress", "EpochSummary", "TrainResult", "train", "TrainingError",
           "DEFAULT_STEPS"]
