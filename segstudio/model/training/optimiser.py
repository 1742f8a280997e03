"""The optimiser side of a training run: AdamW, the learning-rate schedule, mixed precision, the step.

:class:`Optimiser` holds what changes the weights: AdamW over SegFormer's parameter groups (no
weight decay on norms, the decoder head at a higher rate: :mod:`.lr_schedule`), fused on CUDA and
CPU (one kernel for all of B0's ~200 tensors: on 2 CPU cores 2.6 ms a step against 65 ms for the
per-tensor loop, far more under load, where every small op waits at a thread barrier); the
learning rate of each step (warm-up, then poly decay); autocast and the GradScaler (bf16 on CUDA
where the card has it, fp16 with loss scaling otherwise; bf16 on a CPU with native bf16; MPS and
other CPUs train in fp32: ``model.device.training_autocast_dtype``); gradient clipping.
:meth:`Optimiser.step` is one step on one batch and returns the loss as a tensor, not a
number: reading it back would make the host wait for the device every step.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

from segstudio.model.device import autocast_in, training_autocast_dtype

from .lr_schedule import default_warmup, lr_factor, param_groups, set_lr
from .recipe import Recipe
from .types import TrainConfig


class Optimiser:
    """One run's optimiser, schedule and precision; :meth:`step` trains on a batch."""

    def __init__(self, model: nn.Module, raw_model: nn.Module, loss_fn: nn.Module, cfg: TrainConfig,
                 recipe: Recipe, total_steps: int, device: torch.device) -> None:
        self.model, self.raw_model, self.loss_fn = model, raw_model, loss_fn  # model: wrapped under torchrun
        self.total_steps, self.grad_clip = total_steps, cfg.grad_clip
        self.warmup = cfg.warmup_steps if cfg.warmup_steps is not None else default_warmup(
            total_steps, not cfg.is_scratch())
        groups = param_groups(raw_model, recipe.lr, cfg.weight_decay, recipe.head_lr_mult)
        self.cuda = device.type == "cuda"
        fused = device.type in ("cuda", "cpu") or None
        self.optimizer = torch.optim.AdamW(groups, lr=recipe.lr, betas=(0.9, 0.999), fused=fused)
        self.device_type = device.type
        self.amp_dtype = training_autocast_dtype(device) if cfg.amp else None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.lr = 0.0  # the learning rate of the last step

    def autocast(self) -> contextlib.AbstractContextManager:
        """The forward pass's precision (validation runs under it too)."""
        return autocast_in(self.device_type, self.amp_dtype)

    def step(self, images: torch.Tensor, labels: torch.Tensor, step: int) -> torch.Tensor:
        """Train on one batch as step number ``step`` of the run; the loss (a tensor on the device)."""
        if self.cuda:
            images = images.contiguous(memory_format=torch.channels_last)
        self.lr = set_lr(self.optimizer, lr_factor(step, self.total_steps, self.warmup))
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            logits = self.model(images)
        loss = self.loss_fn(logits.float(), labels)
        self.scaler.scale(loss).backward()
        if self.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's and the grad scaler's state, as the state file stores them."""
        return {"optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
