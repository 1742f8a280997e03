"""The training loop behind :func:`segstudio.model.training.train.train` (set-up, steps, validation, saving).

The recipe comes from recipe.py, the batches from ``data/run_data.py`` (in memory when the set
fits), and when to validate and write files from run_schedule.py: fixed costs do not grow with
the number of epochs. On CUDA: bf16 autocast, channels-last, fused AdamW, and no host sync per step (the
loss is read back only when progress is reported).

Reproducibility: the model is initialised right after ``torch.manual_seed(seed)``; data order and
augmentation depend only on (seed, epoch, index), never on the global RNG; the state file stores
the global RNG, so dropout and drop-path continue exactly after a resume. On CPU a stopped and
resumed run ends with bit-identical weights.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import DistributedSampler

from segstudio.core.errors import SegStudioError, TrainingError
from segstudio.core.paths import model_folder
from segstudio.model.data.augment import AugmentConfig
from segstudio.model.data.dataset import EpochSampler, Split, split_entries, steps_per_epoch
from segstudio.model.data.memory import image_sizes
from segstudio.model.data.run_data import build_run_data
from segstudio.model.device import autocast_dtype
from segstudio.model.evaluation import validate
from segstudio.model.weights.model_files import STATE_FILE, WEIGHTS

from . import distributed as dist_util
from . import recipe as recipes
from .cpu_threads import ThreadTuner
from .history import write_history
from .losses import build_loss, class_pixel_counts, class_weights_from_counts
from .lr_schedule import default_warmup, lr_factor, param_groups, set_lr
from .run_schedule import RunSchedule, val_interval
from .state import load_state, restore_rng, rng_state, save_state
from .types import (
    DEFAULT_STEPS,
    EpochSummary,
    TrainProgress,
    TrainResult,
    history_entry,
    nan_to_none,
    run_options,
    summary_from_dict,
)


class _Stop(Exception):
    """Internal: a stop request (should_stop or Ctrl+C) reached the loop."""


class Loop:
    """One training run; :meth:`run` returns a :class:`TrainResult` (see train.py)."""

    def __init__(self, project, config, ctx, on_progress, on_epoch, should_stop) -> None:
        self.project, self.cfg, self.ctx = project, config, ctx
        self.on_progress, self.on_epoch, self.should_stop = on_progress, on_epoch, should_stop
        self.device = ctx.device
        self.notes: list[str] = []
        self.history: list[dict[str, Any]] = []
        self.best = -math.inf     # the best validation mIoU of the run
        self.kept = -math.inf     # the validation mIoU of the weights that are the model
        self.pending_best: dict[str, torch.Tensor] | None = None  # the model's weights, not yet on disk
        self.schedule: RunSchedule | None = None
        self.timing = {"setup_s": 0.0, "data_s": 0.0, "steps_s": 0.0, "validation_s": 0.0,
                       "checkpoints_s": 0.0}  # where the wall time goes (history.json "timing")
        self.epoch = 0
        self.step = 0
        self.model = None
        self.folder = model_folder(project.save_dir, config.name)  # checked again when written
        self.created = time.perf_counter()

    # ------------------------------------------------------------------ set-up
    def _prepare(self) -> None:
        cfg = self.cfg
        names = list(self.project.classes.names)
        if len(names) < 2:
            raise TrainingError("the class list needs a background and at least one class")
        self.num_classes = len(names)
        split = split_entries(self.project, cfg.val_fraction, cfg.seed)
        self.notes.extend(split.notes)
        counts = self._class_counts(split)
        present = np.flatnonzero(counts)
        if len(present) < 2:
            only = names[int(present[0])] if len(present) else "nothing"
            raise TrainingError(f"the training masks contain only {only!r}: paint at least two classes "
                                "(for example background and one object)")
        weights = self._class_weights(counts)
        self.loss_fn = build_loss(cfg.loss, class_weights=weights, label_smoothing=cfg.label_smoothing,
                                  num_labels=self.num_classes).to(self.device)
        torch.manual_seed(cfg.seed)
        if self.device.type == "cuda":
            torch.cuda.manual_seed_all(cfg.seed)
            torch.backends.cudnn.benchmark = True
        self._build_model(names)
        self._build_data(split)
        self._build_optimiser()

    def _class_counts(self, split: Split) -> np.ndarray:
        masks = []
        for entry in split.train:
            mask = self.project.load_mask(entry)
            if mask is not None:
                masks.append(mask)
        return class_pixel_counts(masks, self.num_classes)

    def _class_weights(self, counts: np.ndarray) -> list[float] | None:
        option = self.cfg.class_weights
        if option is False or option is None:
            return None
        if option is True:
            weights = class_weights_from_counts(counts, self.cfg.class_weight_method).tolist()
            self.notes.append("class weights: " + ", ".join(f"{w:.2f}" for w in weights))
            return weights
        weights = [float(w) for w in option]
        if len(weights) != self.num_classes:
            raise TrainingError(f"{len(weights)} class weights given for {self.num_classes} classes")
        return weights

    def _build_model(self, names: list[str]) -> None:
        from segstudio.model.segformer import SegFormer, variant_of
        from segstudio.model.weights.checkpoints import ModelInfo, load_model
        from segstudio.model.weights.model_source import local_source, training_start
        colours = [tuple(int(c) for c in col) for col in self.project.classes.colours]
        if self.cfg.model_config is not None:
            model = SegFormer(self.cfg.model_config.with_labels(self.num_classes))
            info = ModelInfo(variant=variant_of(model.config), class_names=names, colours=colours,
                             image_size=self.cfg.size, source="model_config")
        else:
            init, note = training_start(self.cfg.init, self.project.save_dir)
            if note:  # "auto" decided: the run records (and a resume keeps) the start it took
                self.notes.append(note)
                self.cfg = replace(self.cfg, init=init)
            model, info = load_model(local_source(init, self.project.save_dir, download=False), class_names=names)
            info.class_names, info.colours, info.image_size = names, colours, self.cfg.size
        self.info = info
        model = model.to(self.device)
        if self.device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        self.raw_model = model
        self.model = dist_util.wrap(model, self.ctx)

    def _build_data(self, split: Split) -> None:
        cfg, ctx = self.cfg, self.ctx
        self.recipe = recipes.choose(cfg, image_sizes(self.project, split.train), len(split.val))
        self.notes.extend(self.recipe.notes)
        self.info.image_size = self.recipe.scale_ref  # predict at the size the model learnt
        if cfg.augment:
            aug = AugmentConfig(size=cfg.size, scale_range=self.recipe.scale_range,
                                photometric_p=self.recipe.photometric_p, scale_ref=self.recipe.scale_ref)
        else:  # crops only: the pixels the model sees are the masks' own
            aug = AugmentConfig(size=cfg.size, scale_range=(1.0, 1.0), flip=False, photometric_p=0.0,
                                scale_ref=self.recipe.scale_ref)
        if ctx.enabled:
            self.sampler = DistributedSampler(range(len(split.train)), ctx.world_size, ctx.rank,
                                              shuffle=True, seed=cfg.seed, drop_last=False)
        else:
            self.sampler = EpochSampler(len(split.train), cfg.seed)
        self.data = build_run_data(self.project, split, cfg, aug, self.device, ctx, self.sampler)
        self.notes.append(self.data.note)
        self.steps_per_epoch = steps_per_epoch(len(split.train), cfg.batch, ctx.world_size)
        if cfg.steps is not None:
            self.total_steps = cfg.steps
        elif cfg.epochs is not None:
            self.total_steps = cfg.epochs * self.steps_per_epoch
        else:
            self.total_steps = math.ceil(DEFAULT_STEPS / self.steps_per_epoch) * self.steps_per_epoch
        self.epochs = math.ceil(self.total_steps / self.steps_per_epoch)
        self.schedule = RunSchedule(self.total_steps, val_interval(self.total_steps, self.steps_per_epoch,
                                                                   cfg.val_every))

    def _build_optimiser(self) -> None:
        cfg = self.cfg
        self.base_lr = self.recipe.lr
        self.warmup = cfg.warmup_steps if cfg.warmup_steps is not None else default_warmup(
            self.total_steps, not cfg.is_scratch())
        groups = param_groups(self.raw_model, self.base_lr, cfg.weight_decay, self.recipe.head_lr_mult)
        cuda = self.device.type == "cuda"
        self.optimizer = torch.optim.AdamW(groups, lr=self.base_lr, betas=(0.9, 0.999), fused=cuda or None)
        self.amp_dtype = autocast_dtype(self.device) if cfg.amp and cuda else None  # CUDA only: MPS trains in fp32
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    # ------------------------------------------------------------------ state
    def _state(self) -> dict[str, Any]:
        return {"model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict(), "epoch": self.epoch, "step": self.step,
                "total_steps": self.total_steps, "best": self.best, "kept": self.kept, "history": self.history,
                "rng": rng_state(self.device), "seed": self.cfg.seed,
                "options": {**run_options(self.cfg), "class_names": list(self.info.class_names)}}

    def _save_state(self) -> None:
        """The resumable state, any best model not yet written, and history.json (end, stop,
        failure and the periodic safety copy)."""
        if self.ctx.is_main and self.model is not None and self.schedule is not None:
            started = time.perf_counter()
            self._make_folder()
            self._write_best()
            save_state(self.folder, self._state())
            self.schedule.state_written()
            self.timing["checkpoints_s"] += time.perf_counter() - started
            self._write_history()

    def _make_folder(self) -> None:
        """Create the model folder, refusing (LinkedStateFolderError) a ``models`` or ``models/NAME``
        that became a link since the run started: every file of the run is written in it."""
        self.folder = model_folder(self.project.save_dir, self.cfg.name, create=True)

    def _write_history(self) -> None:
        write_history(self.folder, self.history, self._history_extra())

    def _write_best(self) -> None:
        """Write the best weights kept in memory, if newer than model.safetensors."""
        if self.pending_best is None:
            return
        from segstudio.model.weights.checkpoints import save_model
        save_model(self.folder, _Weights(self.raw_model.config, self.pending_best), self.info)
        self.pending_best = None
        self.schedule.model_written()

    def _history_extra(self) -> dict[str, Any]:
        return {"class_names": list(self.info.class_names), "best_miou": self.kept,
                "total_steps": self.total_steps, "step": self.step,
                "timing": {k: round(v, 3) for k, v in self.timing.items()}}

    def _resume(self) -> None:
        """Continue from the state file. Its values are checked: a state file from elsewhere holds
        only tensors and plain containers, but any of them may be wrong (a step of -10**12 would
        train for ever, a history entry holding a tensor could not be written back as JSON)."""
        from segstudio.model.weights.checkpoints import check_finite

        state = load_state(self.folder, map_location=self.device)
        if int(state["total_steps"]) != self.total_steps:
            self.notes.append(f"schedule changed: {state['total_steps']} -> {self.total_steps} steps")
        check_finite(state["model"], self.folder / STATE_FILE)  # a diverged run is not continued
        self.raw_model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        if not (0 <= self.step <= self.total_steps and 0 <= self.epoch <= self.epochs):
            raise TrainingError(f"the state records step {self.step}, epoch {self.epoch} of a run of "
                                f"{self.total_steps} steps, {self.epochs} epochs")
        self.best, self.history = float(state["best"]), [history_entry(h) for h in state["history"]]
        self.kept = float(state.get("kept", self.best))
        restore_rng(state["rng"], self.device)
        self.notes.append(f"resumed at epoch {self.epoch + 1}, step {self.step}")

    # ------------------------------------------------------------------ run
    def run(self):
        try:
            try:
                self._prepare()
            except Exception:
                if self.cfg.resume:
                    self.model = None  # a run that cannot resume saves nothing over its files
                raise
            if self.cfg.resume:
                try:
                    self._resume()
                except Exception as exc:
                    self.model = None  # a failed resume saves nothing: the run's files stay as they were
                    reason = " ".join(str(exc).split())
                    reason = reason if len(reason) < 240 else reason[:240] + "…"
                    raise TrainingError(f"cannot resume {self.folder}: {reason}") from exc
            if self.ctx.is_main:
                self._make_folder()
            self._train()
        except TrainingError as exc:
            if self.model is None:
                raise  # unusable input (no labelled images, one class, bad settings)
            return self._failed(exc)
        except (_Stop, KeyboardInterrupt):
            self._save_state()
            self._ensure_model()
            return TrainResult("stopped", f"stopped at step {self.step} of {self.total_steps}; "
                               "resume to continue", self.folder, self._best_or_nan(),
                               self._summaries(), self.notes)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a result, state saved
            return self._failed(exc)
        return TrainResult("finished", f"finished {self.total_steps} steps; val mIoU of the model "
                           f"{self._best_or_nan():.3f}", self.folder, self._best_or_nan(),
                           self._summaries(), self.notes)

    def _failed(self, exc: Exception):
        message = _failure_message(exc, self.cfg)
        if self.model is not None:
            with contextlib.suppress(Exception):
                self._save_state()
        return TrainResult("failed", message, self.folder, self._best_or_nan(), self._summaries(),
                           self.notes)

    def _best_or_nan(self) -> float:
        """The validation mIoU of the saved weights (``best_miou`` in history.json and results:
        what the Models dock compares; the best point unless the recipe keeps the last)."""
        return self.kept if self.kept > -math.inf else float("nan")

    def _summaries(self):
        return [summary_from_dict(h) for h in self.history]

    def _ensure_model(self) -> None:
        """A stopped run leaves a usable model even before its first validation."""
        if self.ctx.is_main and not (self.folder / WEIGHTS).exists():
            from segstudio.model.weights.checkpoints import save_model
            save_model(self.folder, self.raw_model, self.info)

    def _stop_requested(self) -> bool:
        flag = bool(self.should_stop()) if (self.should_stop and self.ctx.is_main) else False
        return dist_util.any_rank(flag, self.ctx)

    def _train(self) -> None:
        self.t0, self.steps_done, self.last_report, self.side_s = time.perf_counter(), 0, 0.0, 0.0
        self.last_val_t, self.last_val_step = self.t0, self.step
        self.model.train()
        self.loss_sum = torch.zeros((), device=self.device)
        batches = self.data.batches(self.step, self.total_steps, self.steps_per_epoch)
        self.timing["setup_s"] = self.t0 - self.created - self.data.seconds
        self.threads = ThreadTuner(self.device, self.total_steps - self.step)
        try:
            self._steps(batches)
        finally:
            self.threads.restore()
        self.epoch = self.epochs
        self._save_state()
        if not self.cfg.keep_state and self.ctx.is_main:  # the best model and history stay
            (self.folder / STATE_FILE).unlink(missing_ok=True)

    def _steps(self, batches) -> None:
        self.timing["data_s"] = self.data.seconds
        while True:
            started = time.perf_counter()
            item = next(batches, None)
            if item is None:
                break
            self.epoch, images, labels = item
            if self._stop_requested():
                raise _Stop
            stepped = time.perf_counter()
            self.timing["data_s"] += stepped - started
            loss = self._train_step(images, labels).detach()
            seconds = time.perf_counter() - stepped
            self.timing["steps_s"] += seconds
            self.threads.observe(seconds)
            self.loss_sum += loss
            self.step += 1
            self.steps_done += 1
            last = self.step >= self.total_steps
            self._report(loss, images.shape[0], last=last or self.step % self.steps_per_epoch == 0)
            side = time.perf_counter()
            if self.schedule.validation_due(self.step):
                self._validate()
            elif self.ctx.is_main and self.schedule.safety_due():
                self._save_state()
            self.side_s += time.perf_counter() - side  # validation and checkpoints: not the step rate

    def _train_step(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            images = images.contiguous(memory_format=torch.channels_last)
        self.lr = set_lr(self.optimizer, lr_factor(self.step, self.total_steps, self.warmup))
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            logits = self.model(images)
        loss = self.loss_fn(logits.float(), labels)
        self.scaler.scale(loss).backward()
        if self.cfg.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss

    def _report(self, loss: torch.Tensor, batch: int, last: bool) -> None:
        if not (self.on_progress and self.ctx.is_main):
            return
        now = time.perf_counter()
        if not last and now - self.last_report < self.cfg.progress_interval_s:
            return
        self.last_report = now
        # The step rate (data and steps, without validation and checkpoints, which come in bursts):
        # images/s says how fast training runs, and the ETA does not jump after each validation.
        stepping = max(now - self.t0 - self.side_s, 1e-9)
        per_step = stepping / max(self.steps_done, 1)
        images_per_s = self.steps_done * batch * self.ctx.world_size / stepping
        self.on_progress(TrainProgress(self.epoch + 1, self.epochs, self.step, self.total_steps,
                                       float(loss), self.lr, images_per_s,
                                       per_step * (self.total_steps - self.step)))

    def _validate(self) -> None:
        """One validation point: metrics, history.json, the best weights (kept in memory, written
        when run_schedule allows), the GUI's curve point."""
        started = time.perf_counter()
        metrics = validate(dist_util.unwrap(self.model), self.data.val, self.num_classes, self.device,
                           self._autocast, self.ctx)
        steps = max(1, self.step - self.last_val_step)
        summary = EpochSummary(math.ceil(self.step / self.steps_per_epoch), float(self.loss_sum) / steps,
                               float(metrics.miou), float(metrics.pixel_accuracy),
                               nan_to_none(metrics.iou.tolist()), started - self.last_val_t,
                               float(self.lr), self.step, started - self.t0)
        self.loss_sum.zero_()
        self.history.append(asdict(summary))
        miou = metrics.miou if not math.isnan(metrics.miou) else -1.0
        improved = miou > self.best
        self.best = max(self.best, miou)
        if improved or not self.recipe.keep_best:
            self.kept = miou
            if self.ctx.is_main:
                self.pending_best = {k: v.detach().clone() for k, v in self.raw_model.state_dict().items()}
        validated = time.perf_counter()
        self.timing["validation_s"] += validated - started
        if self.ctx.is_main:
            if self.schedule.model_write_due():
                self._write_best()
            self._write_history()
            self.timing["checkpoints_s"] += time.perf_counter() - validated
            if self.on_epoch:
                self.on_epoch(summary)
        dist_util.barrier(self.ctx)
        self.model.train()
        self.last_val_t, self.last_val_step = time.perf_counter(), self.step
        self.schedule.validated(started, self.last_val_t)


class _Weights:
    """A model's config and a snapshot of its weights: what save_model needs to write a best model
    kept in memory while the live model trains on."""

    def __init__(self, config: Any, state: dict[str, torch.Tensor]) -> None:
        self.config, self._state = config, state

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self._state


def _failure_message(exc: BaseException, cfg) -> str:
    """One readable line; out-of-memory suggests what to lower."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in text.lower():
        return (f"out of memory at batch {cfg.batch}, size {cfg.size}: try a smaller --batch "
                f"(e.g. {max(1, cfg.batch // 2)}) or --size (e.g. {max(32, cfg.size // 2 // 32 * 32)})")
    if isinstance(exc, SegStudioError):
        return text
    return f"training failed: {type(exc).__name__}: {text}"
