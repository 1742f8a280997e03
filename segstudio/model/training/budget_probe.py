"""Measuring what a step and a validation cost on this machine, for a time budget (budget.py).

The probe runs a few real training steps of the run's own model on random tensors: forward,
loss, backward and AdamW, at two batch sizes, after two warm-up steps each (the first calls
allocate); the median of three timed steps counts. On a CPU with several threads the first point is
timed on one thread first and then on all, and a count whose step has clearly lost is not timed
further (cpu_threads.LOSING_SHARE): on a busy machine those steps cost seconds each.
The optimiser is a throwaway one at learning rate 0 and the model's buffers (batch-norm
statistics) and the random generators are put back afterwards, so a budgeted run then trains
exactly as a run of the planned steps would. A validation's cost is one timed forward pass per
image size. On CUDA (or MPS) the device is synchronised before each clock reading, so the same
numbers mean the same on every device.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from .budget import Candidate, StepCost
from .cpu_threads import LOSING_SHARE
from .optimiser import Optimiser

WARMUP_STEPS = 2   # the first calls at a shape allocate and pick kernels: seconds, not the pace
TIMED_STEPS = 3    # the median counts (a shared machine has hiccups)
MAX_PROBE_S = 20.0  # a very slow machine: stop timing after this long (the measured steps count)


def synchronise(device: torch.device) -> None:
    """Wait for the device's queued work, so that a clock reading means the work is done."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


@contextmanager
def untouched(model: nn.Module, device: torch.device) -> Iterator[None]:
    """Run the block and put back the model's buffers and the random generators' state."""
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    try:
        yield
    finally:
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(buffers[name])
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state(cuda_rng, device)


def _timed(run: Callable[[], Any], device: torch.device, started: float, losing_s: float = math.inf) -> float:
    """Seconds per call of ``run`` after WARMUP_STEPS untimed calls (fewer when slow). A call that
    takes longer than ``losing_s`` (the other way's time, times LOSING_SHARE) ends the timing at
    once and counts: that way has already lost, and on a busy machine its steps cost seconds."""
    for _ in range(WARMUP_STEPS):
        t0 = time.perf_counter()
        run()
        synchronise(device)
        if time.perf_counter() - t0 > losing_s:
            return time.perf_counter() - t0
    times: list[float] = []
    while len(times) < TIMED_STEPS and (not times or time.perf_counter() - started < MAX_PROBE_S):
        t0 = time.perf_counter()
        run()
        synchronise(device)
        times.append(time.perf_counter() - t0)
        if times[-1] > losing_s:
            return times[-1]
    return sorted(times)[len(times) // 2]


def measure_steps(model: nn.Module, raw_model: nn.Module, loss_fn: nn.Module, cfg: Any, recipe: Any,
                  num_classes: int, device: torch.device, points: list[Candidate]) -> list[tuple[int, int, float]]:
    """(size, batch, seconds per step) at each of ``points``; the model is left as it was."""
    probe = Optimiser(model, raw_model, loss_fn, cfg, replace(recipe, lr=0.0), 1000, device)
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    out = []
    threads = torch.get_num_threads()
    with untouched(raw_model, device):
        model.train()
        for i, point in enumerate(points):
            images = torch.randn(point.batch, 3, point.size, point.size, generator=generator).to(device)
            labels = torch.randint(0, num_classes, (point.batch, point.size, point.size),
                                   generator=generator).to(device)

            def step(x: torch.Tensor = images, y: torch.Tensor = labels) -> None:
                probe.step(x, y, 500)
            if i == 0 and device.type == "cpu" and threads > 1:
                seconds = _threads_compared(step, device, started, threads)  # the rest on the faster
            else:
                seconds = _timed(step, device, started)
            out.append((point.size, point.batch, seconds))
    torch.set_num_threads(threads)
    probe.optimizer.zero_grad(set_to_none=True)
    return out


def _threads_compared(step: Callable[[], Any], device: torch.device, started: float, threads: int) -> float:
    """The step's seconds on the faster of one thread and ``threads``, and torch left on it. On a
    busy CPU, torch's threads wait for each other at every operator and one thread can be several
    times faster (cpu_threads.py: the run's ThreadTuner makes the same choice). One thread is timed
    first (its warm-up also allocates): on a busy machine a step on all threads can take ten times
    as long (6.2 s against 0.13 s for 128 px x 8 at load 8 on 2 cores), and its timing stops at the
    first call that has lost."""
    torch.set_num_threads(1)
    single = _timed(step, device, started)
    torch.set_num_threads(threads)
    several = _timed(step, device, started, LOSING_SHARE * single)
    torch.set_num_threads(1 if single < several else threads)
    return min(single, several)


def measure_forward(model: nn.Module, device: torch.device, height: int, width: int,
                    autocast: Callable[[], Any]) -> float:
    """Seconds of one validation forward pass of a ``height`` × ``width`` image."""
    images = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(0)).to(device)

    @torch.no_grad()
    def run() -> None:
        with autocast():
            model(images)

    was = model.training
    model.eval()
    try:
        return _timed(run, device, time.perf_counter())
    finally:
        model.train(was)


def probe_points(options: list[Candidate]) -> list[Candidate]:
    """Two cheap points that pin the cost line: the smallest candidate at its batch and at twice it."""
    small = min(options, key=lambda c: c.batch * c.size * c.size)
    return [small, Candidate(small.size, small.batch * 2)]


def fit_cost(measured: list[tuple[int, int, float]]) -> StepCost:
    return StepCost.fit(measured)


def model_bytes(model: nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def probe_machine(variant: str, device_choice: str, num_classes: int = 4) -> dict[str, Any]:
    """What a run of a ``variant`` (b0..b5) model costs on this machine, measured from scratch for the
    training form's plan (application/training/plan_preview.py): plain values, no tensors.

    A random model of that size, two batch sizes of 128 px crops and one validation forward; the
    model's size in bytes for the writes; the device type it ran on."""
    import contextlib

    from segstudio.model.device import pick_device
    from segstudio.model.segformer import SegFormer, config_for

    from .budget import Candidate
    from .losses import build_loss
    from .recipe import choose
    from .types import TrainConfig

    started = time.perf_counter()
    device = pick_device(device_choice)
    model = SegFormer(config_for(variant, num_classes)).to(device)
    cfg = TrainConfig(init=variant, device=device_choice)
    loss_fn = build_loss("ce", num_labels=num_classes).to(device)
    points = [Candidate(128, 2), Candidate(128, 4)]
    measured = measure_steps(model, model, loss_fn, cfg, choose(cfg, []), num_classes, device, points)
    forward = measure_forward(model, device, 128, 128, contextlib.nullcontext)
    return {"device": device.type, "variant": variant, "measured": measured,
            "forward_px_s": forward / (128 * 128), "model_bytes": model_bytes(model),
            "seconds": time.perf_counter() - started}
