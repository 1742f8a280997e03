"""Multi-process training with DistributedDataParallel (``torchrun --nproc_per_node N``).

:func:`segstudio.model.training.train.train` is the same function in one process and under torchrun: it
calls :func:`setup` which reads torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``),
initialises the process group (NCCL on CUDA, gloo on CPU) and tells the trainer its rank. Each
rank trains on its share of every epoch (``DistributedSampler`` seeded like our single-process
sampler), validates its share, and the confusion matrices are summed with ``all_reduce``. Only
rank 0 writes files and reports progress; a stop request on rank 0 reaches the others at the
next batch.

Usage: ``torchrun --nproc_per_node 4 -m segstudio.cli.main train SAVE_DIR --images IMAGES``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: rank, world size and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def env_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def setup(device: torch.device) -> DistContext:
    """Join torchrun's process group when launched by it; a single-process context otherwise.

    On CUDA each rank takes GPU ``LOCAL_RANK``. A process group that already exists (tests that
    spawn processes themselves) is reused and left open.
    """
    world = env_world_size()
    if world <= 1 and not (dist.is_available() and dist.is_initialized()):
        return DistContext(device=device)
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = False
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        owns = True
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, device, owns)


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    """DDP around ``model`` when distributed, else ``model`` itself."""
    if not ctx.enabled:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum over ranks in place (a no-op in one process); returns ``tensor``."""
    if ctx.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True on every rank if ``flag`` is True on any rank (used for stop requests and failures)."""
    if not ctx.enabled:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def teardown(ctx: DistContext) -> None:
    """Leave the process group if :func:`setup` created it."""
    if ctx.enabled and ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()
