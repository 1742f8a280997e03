"""The data side of a training run: the sampler, the batches and the length of the run in steps.

:class:`LoopData` builds what the loop draws from: the augmentation the recipe asks for, a sampler
(one process, or one shard per rank under torchrun), the run's data (decoded once into tensors on
the training device and augmented there a batch at a time when the set fits, else streamed by
worker processes: :mod:`segstudio.model.data.run_data`), and the plan's arithmetic (steps per
epoch, total steps, epochs). The loop asks it for the batches from a step on and for the
validation batches; it never sees a loader.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch.utils.data import DistributedSampler

from segstudio.model.data.augment import AugmentConfig
from segstudio.model.data.dataset import EpochSampler, Split, steps_per_epoch
from segstudio.model.data.run_data import Batch, RunData, build_run_data

from .distributed import DistContext
from .recipe import Recipe
from .types import DEFAULT_STEPS, TrainConfig


class LoopData:
    """The batches of one run and its length: :meth:`batches` from a step on, :attr:`val`."""

    def __init__(self, project: Any, split: Split, cfg: TrainConfig, recipe: Recipe, device: torch.device,
                 ctx: DistContext) -> None:
        if ctx.enabled:
            sampler = DistributedSampler(range(len(split.train)), ctx.world_size, ctx.rank,
                                         shuffle=True, seed=cfg.seed, drop_last=False)
        else:
            sampler = EpochSampler(len(split.train), cfg.seed)
        self.run: RunData = build_run_data(project, split, cfg, augment_config(cfg, recipe), device, ctx, sampler)
        self.steps_per_epoch = steps_per_epoch(len(split.train), cfg.batch, ctx.world_size)
        self.total_steps = planned_steps(cfg, self.steps_per_epoch)
        self.epochs = math.ceil(self.total_steps / self.steps_per_epoch)
        self.bound: int | None = None  # batches drawn up to here (a budget may lengthen its plan)

    def set_total(self, steps: int) -> None:
        """A new length in steps (a time budget's plan, made or shortened); the batches drawn from
        now on stop there."""
        self.total_steps = steps
        self.epochs = math.ceil(steps / self.steps_per_epoch)

    @property
    def val(self) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        """The validation batches (this rank's share under torchrun)."""
        return self.run.val

    @property
    def seconds(self) -> float:
        """Spent decoding the set up front (the memory path; 0 when streamed)."""
        return self.run.seconds

    @property
    def note(self) -> str:
        return self.run.note

    def batches(self, start_step: int) -> Iterator[Batch]:
        """(epoch, images, labels) on the training device for every step from ``start_step`` on."""
        return self.run.batches(start_step, max(self.total_steps, self.bound or 0), self.steps_per_epoch)


def augment_config(cfg: TrainConfig, recipe: Recipe) -> AugmentConfig:
    """The recipe's augmentation, or crops only (the pixels the model sees are the masks' own)."""
    if cfg.augment:
        return AugmentConfig(size=cfg.size, scale_range=recipe.scale_range,
                             photometric_p=recipe.photometric_p, scale_ref=recipe.scale_ref)
    return AugmentConfig(size=cfg.size, scale_range=(1.0, 1.0), flip=False, photometric_p=0.0,
                         scale_ref=recipe.scale_ref)


def planned_steps(cfg: TrainConfig, per_epoch: int) -> int:
    """``steps`` when given, else ``epochs`` whole epochs, else about DEFAULT_STEPS in whole epochs."""
    if cfg.steps is not None:
        return cfg.steps
    if cfg.epochs is not None:
        return cfg.epochs * per_epoch
    return math.ceil(DEFAULT_STEPS / per_epoch) * per_epoch
