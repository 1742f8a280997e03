"""The training loop behind :func:`segstudio.model.training.train.train` (set-up, steps, validation, saving).

:class:`Loop` sets a run up and drives it; the work is done by the parts it composes:

* the data side, :class:`.loop_data.LoopData`: sampler, batches (in memory when the set fits,
  augmented on the device), the run's length in steps;
* the optimiser side, :class:`.optimiser.Optimiser`: AdamW, learning-rate schedule, autocast and
  GradScaler, gradient clipping, the step;
* the files, :class:`.checkpoint_writer.CheckpointWriter`: the model, the state, history.json,
  and when each is written (run_schedule.py: fixed costs do not grow with the number of epochs);
* the record, :class:`.record.RunRecord` (validation points, best and kept scores), and the
  step rate of the progress reports, :class:`.pace.Pace`.

The loop itself checks the classes and builds the loss, the model and the recipe (recipe.py),
resumes, runs the steps, validates, and turns every ending into a :class:`TrainResult`. On CUDA:
bf16 autocast, channels-last, fused AdamW, and no host sync per step (the loss is read back only
when progress is reported).

Reproducibility: the model is initialised right after ``torch.manual_seed(seed)``; data order and
augmentation depend only on (seed, epoch, index), never on the global RNG; the state file stores
the global RNG, so dropout and drop-path continue exactly after a resume. On CPU a stopped and
resumed run ends with bit-identical weights.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from segstudio.core.errors import SegStudioError, TrainingError
from segstudio.core.words import count
from segstudio.model.data.dataset import Split, split_entries
from segstudio.model.data.memory import image_sizes
from segstudio.model.data.run_data import Batch
from segstudio.model.evaluation import validate
from segstudio.model.weights.model_files import STATE_FILE

from . import distributed as dist_util
from . import recipe as recipes
from .budget_run import BudgetRun
from .checkpoint_writer import CheckpointWriter
from .cpu_threads import ThreadTuner
from .loop_data import LoopData
from .losses import build_loss, class_pixel_counts, class_weights_from_counts
from .optimiser import Optimiser
from .pace import Pace
from .record import RunRecord
from .run_schedule import RunSchedule, val_interval
from .state import load_state, restore_rng, rng_state
from .types import TrainProgress, TrainResult, run_options


class _Stop(Exception):
    """Internal: a stop request (should_stop or Ctrl+C) reached the loop."""


class Loop:
    """One training run; :meth:`run` returns a :class:`TrainResult` (see train.py)."""

    def __init__(self, project, config, ctx, on_progress, on_epoch, should_stop) -> None:
        self.project, self.cfg, self.ctx = project, config, ctx
        self.on_progress, self.on_epoch, self.should_stop = on_progress, on_epoch, should_stop
        self.notes: list[str] = []
        self.timing = {"setup_s": 0.0, "data_s": 0.0, "steps_s": 0.0, "validation_s": 0.0,
                       "checkpoints_s": 0.0}  # where the wall time goes (history.json "timing")
        self.epoch = 0
        self.step = 0
        self.model = None  # None: nothing of this run may be saved (set-up or resume failed)
        self.record = RunRecord()
        self.files = CheckpointWriter(project.save_dir, config.name, self.timing)
        self.schedule: RunSchedule | None = None
        self.pace: Pace | None = None
        self.created = time.perf_counter()
        self.budget = BudgetRun(config, self.notes) if config.minutes is not None else None
        self.recorded_budget: dict[str, Any] | None = None  # a resumed run's plan, kept in its files

    @property
    def device(self) -> torch.device:
        return self.ctx.device

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
        loss_fn = build_loss(cfg.loss, class_weights=weights, label_smoothing=cfg.label_smoothing,
                             num_labels=self.num_classes).to(self.device)
        torch.manual_seed(cfg.seed)
        if self.device.type == "cuda":
            torch.cuda.manual_seed_all(cfg.seed)
            torch.backends.cudnn.benchmark = True
        self._build_model(names)
        if self.budget is not None:  # crop, batch and steps from the measured machine (budget_run.py)
            with self._refusal():
                self.cfg = self.budget.choose(self, image_sizes(self.project, split.train), len(split.val), loss_fn)
        self._build_data(split)
        self.optimiser = Optimiser(self.model, self.raw_model, loss_fn, self.cfg, self.recipe,
                                   self.data.total_steps, self.device)
        if self.optimiser.amp_dtype is not None:
            precision = str(self.optimiser.amp_dtype).removeprefix("torch.")
            self.notes.append(f"mixed precision: {precision} autocast, the weights kept in float32 "
                              "(segstudio-cli train --no-amp: float32 throughout)")

    @contextlib.contextmanager
    def _refusal(self) -> Iterator[None]:
        """A budget too short is unusable input, like a single class: nothing of the run is saved."""
        try:
            yield
        except TrainingError:
            self.model = None
            raise

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
        from segstudio.model.weights.preprocessing import for_training
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
            normalisation = for_training(info, init)
            if normalisation:
                self.notes.append(normalisation)
        self.info = info
        model = model.to(self.device)
        if self.device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        self.raw_model = model
        self.model = dist_util.wrap(model, self.ctx)

    def _build_data(self, split: Split) -> None:
        self.recipe = recipes.choose(self.cfg, image_sizes(self.project, split.train), len(split.val))
        self.notes.extend(self.recipe.notes)
        self.info.image_size = self.recipe.scale_ref  # predict at the size the model learnt
        self.data = LoopData(self.project, split, self.cfg, self.recipe, self.device, self.ctx)
        self.notes.append(self.data.note)
        if self.budget is not None:
            with self._refusal():
                self.cfg = replace(self.cfg, steps=self.budget.settle(self.data))
            self.notes.extend(self.budget.notes())
        total, per_epoch = self.data.total_steps, self.data.steps_per_epoch
        self.schedule = RunSchedule(total, val_interval(total, per_epoch, self.cfg.val_every))
        self.files.start(self.schedule)

    # ------------------------------------------------------------------ state
    def _state(self) -> dict[str, Any]:
        return {"model": self.raw_model.state_dict(), **self.optimiser.state_dict(), "epoch": self.epoch,
                "step": self.step, "total_steps": self.data.total_steps, **self.record.state(),
                "rng": rng_state(self.device), "seed": self.cfg.seed,
                "options": {**run_options(self.cfg), "class_names": list(self.info.class_names),
                            **self._budget_record()}}

    def _save_state(self) -> None:
        """The resumable state, any best model not yet written, and history.json (end, stop,
        failure and the periodic safety copy)."""
        if self.ctx.is_main and self.model is not None and self.files.started:
            self.files.save_state(self._state, self.raw_model.config, self.info)
            self.files.write_history(self.record.history, self._history_extra())

    def _history_extra(self) -> dict[str, Any]:
        return {"class_names": list(self.info.class_names), "best_miou": self.record.kept,
                "total_steps": self.data.total_steps, "step": self.step,
                "timing": {k: round(v, 3) for k, v in self.timing.items()}, "pace": self._pace(),
                **self._budget_record()}

    def _pace(self) -> dict[str, Any]:
        """What a step of this run cost, for the training form's plan of the next run."""
        done = self.pace.steps if self.pace is not None else 0
        spent = self.timing["steps_s"] + self.timing["data_s"] - self.data.seconds
        return {"device": self.device.type, "size": self.cfg.size, "batch": self.cfg.batch,
                "step_s": round(spent / done, 4) if done else None, "setup_s": round(self.timing["setup_s"], 2),
                "variant": getattr(self.info, "variant", None)}

    def _budget_record(self) -> dict[str, Any]:
        """{"budget": the plan} of a budgeted run (also once resumed), else nothing."""
        record = self.budget.record() if self.budget is not None else self.recorded_budget
        return {"budget": record} if record is not None else {}

    def _resume(self) -> None:
        """Continue from the state file. Its values are checked: a state file from elsewhere holds
        only tensors and plain containers, but any of them may be wrong (a step of -10**12 would
        train for ever, a history entry holding a tensor could not be written back as JSON)."""
        from segstudio.model.weights.checkpoints import check_finite

        folder, total = self.files.folder, self.data.total_steps
        state = load_state(folder, map_location=self.device)
        if int(state["total_steps"]) != total:
            self.notes.append(f"schedule changed: {state['total_steps']} -> {total} steps")
        check_finite(state["model"], folder / STATE_FILE)  # a diverged run is not continued
        self.raw_model.load_state_dict(state["model"])
        self.optimiser.load_state_dict(state)
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        if not (0 <= self.step <= total and 0 <= self.epoch <= self.data.epochs):
            raise TrainingError(f"the state records step {self.step}, epoch {self.epoch} of a run of "
                                f"{total} steps, {self.data.epochs} epochs")
        self.record.restore(state)
        budget = state.get("options", {}).get("budget")
        self.recorded_budget = budget if isinstance(budget, dict) else None
        if self.recorded_budget is not None:
            self.notes.append(f"continuing the plan of a {self.recorded_budget.get('minutes')}-minute time budget: "
                              f"its {total} steps, not a new deadline")
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
                    raise TrainingError(f"cannot resume {self.files.folder}: {reason}") from exc
            if self.ctx.is_main:
                self.files.make_folder()
            self._train()
        except TrainingError as exc:
            if self.model is None:
                raise  # unusable input (no labelled images, one class, bad settings)
            return self._failed(exc)
        except (_Stop, KeyboardInterrupt):
            self._save_state()
            self._ensure_model()
            return TrainResult("stopped", f"stopped at step {self.step} of {self.data.total_steps}; "
                               "resume to continue", self.files.folder, self.record.model_score(),
                               self.record.summaries(), self.notes)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a result, state saved
            return self._failed(exc)
        return TrainResult("finished", f"finished {count(self.data.total_steps, 'step')}; val mIoU of the model "
                           f"{self.record.model_score():.3f}", self.files.folder, self.record.model_score(),
                           self.record.summaries(), self.notes)

    def _failed(self, exc: Exception):
        message = _failure_message(exc, self.cfg)
        if self.model is not None:
            with contextlib.suppress(Exception):
                self._save_state()
        return TrainResult("failed", message, self.files.folder, self.record.model_score(),
                           self.record.summaries(), self.notes)

    def _ensure_model(self) -> None:
        """A stopped run leaves a usable model even before its first validation."""
        if self.ctx.is_main:
            self.files.ensure_model(self.raw_model, self.info)

    def _stop_requested(self) -> bool:
        flag = bool(self.should_stop()) if (self.should_stop and self.ctx.is_main) else False
        return dist_util.any_rank(flag, self.ctx)

    def _train(self) -> None:
        self.pace = Pace(self.cfg.progress_interval_s)
        self.record.start(self.pace.t0, self.step, self.device)
        self.model.train()
        batches = self.data.batches(self.step)
        self.timing["setup_s"] = self.pace.t0 - self.created - self.data.seconds
        threads = ThreadTuner(self.device, self.data.total_steps - self.step)
        try:
            self._steps(batches, threads)
        finally:
            threads.restore()
        self.epoch = self.data.epochs
        self._save_state()
        if not self.cfg.keep_state and self.ctx.is_main:  # the best model and history stay
            self.files.drop_state()

    def _steps(self, batches: Iterator[Batch], threads: ThreadTuner) -> None:
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
            loss = self.optimiser.step(images, labels, self.step).detach()
            seconds = time.perf_counter() - stepped
            self.timing["steps_s"] += seconds
            threads.observe(seconds)
            self.record.add_loss(loss)
            self.step += 1
            self.pace.stepped()
            last = self.step >= self.data.total_steps
            self._report(loss, images.shape[0], last=last or self.step % self.data.steps_per_epoch == 0)
            side = time.perf_counter()
            if self.schedule.validation_due(self.step):
                self._validate()
            elif self.ctx.is_main and self.files.safety_due():
                self._save_state()
            self.pace.aside(time.perf_counter() - side)  # validation and checkpoints: not the step rate
            if self.budget is not None and self._keep_to_budget():
                break

    def _keep_to_budget(self) -> bool:
        """Re-plan when the run would end late or early (budget_run.py); True once it is done."""
        left = -(-(self.data.total_steps - self.step) // self.schedule.interval)
        stepping = time.perf_counter() - self.pace.t0 - self.pace.side_s  # validations and writes left out
        new = self.budget.after_step(self.step, self.data.total_steps, stepping, left)
        if new is not None:
            self.data.set_total(new)
            self.optimiser.total_steps = self.schedule.total_steps = new
            self.cfg = replace(self.cfg, steps=new)
        return self.step >= self.data.total_steps

    def _report(self, loss: torch.Tensor, batch: int, last: bool) -> None:
        if not (self.on_progress and self.ctx.is_main) or not self.pace.due(last):
            return
        images_per_s, per_step = self.pace.rate(batch, self.ctx.world_size)
        total = self.data.total_steps
        self.on_progress(TrainProgress(self.epoch + 1, self.data.epochs, self.step, total, float(loss),
                                       self.optimiser.lr, images_per_s, per_step * (total - self.step)))

    def _validate(self) -> None:
        """One validation point: metrics, history.json, the best weights (kept in memory, written
        when run_schedule allows), the GUI's curve point."""
        started = time.perf_counter()
        metrics = validate(dist_util.unwrap(self.model), self.data.val, self.num_classes, self.device,
                           self.optimiser.autocast, self.ctx)
        summary, is_model = self.record.point(metrics, self.step, self.data.steps_per_epoch, self.optimiser.lr,
                                              started, started - self.pace.t0, self.recipe.keep_best)
        if is_model and self.ctx.is_main:
            self.files.keep(self.raw_model)
        self.timing["validation_s"] += time.perf_counter() - started
        if self.ctx.is_main:
            self.files.validated(self.raw_model.config, self.info, self.record.history, self._history_extra)
            if self.on_epoch:
                self.on_epoch(summary)
        dist_util.barrier(self.ctx)
        self.model.train()
        now = time.perf_counter()
        self.record.restart(now, self.step)
        self.schedule.validated(started, now)


def _failure_message(exc: BaseException, cfg) -> str:
    """One readable line; out-of-memory suggests what to lower."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in text.lower():
        return (f"out of memory at batch {cfg.batch}, size {cfg.size}: try a smaller --batch "
                f"(e.g. {max(1, cfg.batch // 2)}) or --size (e.g. {max(32, cfg.size // 2 // 32 * 32)})")
    if isinstance(exc, SegStudioError):
        return text
    return f"training failed: {type(exc).__name__}: {text}"
