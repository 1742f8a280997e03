"""The batches of a training run: from memory when the set fits, else streamed by worker processes.

:func:`build_run_data` decodes the labelled set once into tensors on the training device
(memory.py) when it fits :func:`.memory.memory_budget`; then a step costs one batched
augmentation and no worker processes. A larger set streams through one DataLoader for the whole
run (persistent workers, pinned memory on CUDA). Both paths draw the same samples: order from
the sampler per epoch, augmentation from (seed, epoch, index).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Subset

from segstudio.core.words import count

from .augment import AugmentConfig
from .dataset import PlanSampler, SegmentationDataset, pad_collate, run_plan
from .memory import TooLarge, load_train_set, load_val_batches

Batch = tuple[int, torch.Tensor, torch.Tensor]  # epoch, images, labels


@dataclass
class RunData:
    """What the loop needs: ``batches(start_step, ...)`` and the validation batches."""

    batches: Callable[..., Iterator[Batch]]
    val: Iterable[tuple[torch.Tensor, torch.Tensor]]
    in_memory: bool
    seconds: float          # spent decoding up front
    note: str


def build_run_data(project: Any, split: Any, cfg: Any, aug: AugmentConfig, device: torch.device,
                   ctx: Any, sampler: Any) -> RunData:
    """Memory path when train and val fit the budget, else the streaming path."""
    start = time.perf_counter()
    val_entries = split.val if not ctx.enabled else split.val[ctx.rank::ctx.world_size]
    try:
        train_set = load_train_set(project, split.train, aug, cfg.seed, device, cfg.memory_budget)
        val = load_val_batches(project, val_entries, aug.reference, cfg.batch, device, cfg.memory_budget)
    except TooLarge as exc:
        return _streaming(project, split, cfg, aug, device, ctx, sampler, f"{exc}: streaming from disk")

    def batches(start_step: int, total: int, per_epoch: int) -> Iterator[Batch]:
        for epoch, chunk in run_plan(sampler, start_step, total, per_epoch, cfg.batch):
            x, y = train_set.batch(chunk, epoch)
            yield epoch, x, y

    note = f"{count(len(split.train), 'training image')} held in memory ({train_set.nbytes >> 20} MB)"
    return RunData(batches, val, True, time.perf_counter() - start, note)


def _streaming(project, split, cfg, aug, device, ctx, sampler, note: str) -> RunData:
    train_ds = SegmentationDataset(project, split.train, cfg.size, True, cfg.seed, aug)
    val_ds = SegmentationDataset(project, split.val, aug.reference, False, cfg.seed)
    if ctx.enabled:
        val_ds = Subset(val_ds, list(range(ctx.rank, len(val_ds), ctx.world_size)))
    workers = cfg.num_workers
    pin = device.type == "cuda"
    val = DataLoader(val_ds, batch_size=1, num_workers=workers, collate_fn=pad_collate,
                     pin_memory=pin, persistent_workers=workers > 0)

    def batches(start_step: int, total: int, per_epoch: int) -> Iterator[Batch]:
        plan = run_plan(sampler, start_step, total, per_epoch, cfg.batch)
        epochs: list[int] = []

        def remember(p):  # the loader sees only indices; the loop also needs each batch's epoch
            for epoch, chunk in p:
                epochs.append(epoch)
                yield epoch, chunk
        loader = DataLoader(train_ds, batch_sampler=PlanSampler(remember(plan), total - start_step),
                            num_workers=workers, collate_fn=pad_collate, pin_memory=pin,
                            persistent_workers=False, prefetch_factor=4 if workers else None)
        for i, (x, y) in enumerate(loader):
            yield epochs[i], x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    return RunData(batches, val, False, 0.0, note)
