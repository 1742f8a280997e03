"""The budget's probe (model/training/budget_probe.py) measures real steps of the run's own model and
leaves it as it was: weights, batch-norm statistics and the random generators (no timing asserted)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_synth import tiny_config  # noqa: E402

from segstudio.model.segformer import SegFormer
from segstudio.model.training import budget_probe
from segstudio.model.training.budget import Candidate, StepCost
from segstudio.model.training.losses import build_loss
from segstudio.model.training.recipe import choose
from segstudio.model.training.types import TrainConfig


def test_the_probe_measures_steps_and_leaves_the_model_and_rng_untouched():
    torch.manual_seed(0)
    model = SegFormer(tiny_config())
    cfg = TrainConfig(init="b0", model_config=tiny_config())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    measured = budget_probe.measure_steps(model, model, build_loss("ce", num_labels=4), cfg, choose(cfg, []), 4,
                                          torch.device("cpu"), [Candidate(32, 2), Candidate(32, 4)])
    assert [(s, b) for s, b, _ in measured] == [(32, 2), (32, 4)] and all(t > 0 for _, _, t in measured)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # lr 0, and the buffers put back
    assert torch.equal(rng, torch.get_rng_state())
    assert all(p.grad is None for p in model.parameters())
    assert StepCost.fit(measured).seconds(32, 2) > 0
    assert budget_probe.measure_forward(model, torch.device("cpu"), 32, 48, contextlib.nullcontext) > 0
    assert model.training  # as it was
    assert budget_probe.model_bytes(model) == sum(p.numel() * 4 for p in model.parameters())
    assert budget_probe.probe_points([Candidate(160, 8), Candidate(128, 2)]) == [Candidate(128, 2),
                                                                                Candidate(128, 4)]


class _Clock:
    """A fake perf_counter: each step advances it by what the current thread count costs."""

    def __init__(self, cost: dict[int, float]) -> None:
        self.now, self.cost, self.calls = 0.0, cost, {n: 0 for n in cost}

    def __call__(self) -> float:
        return self.now

    def step(self) -> None:
        threads = torch.get_num_threads()
        self.calls[threads] += 1
        self.now += self.cost[threads]


def test_the_probe_stops_timing_a_thread_count_at_its_first_losing_step(monkeypatch):
    original = torch.get_num_threads()
    busy = _Clock({1: 0.1, 2: 2.0})  # a busy machine: two threads wait for each other
    monkeypatch.setattr(budget_probe, "time", SimpleNamespace(perf_counter=busy))
    try:
        assert budget_probe._threads_compared(busy.step, torch.device("cpu"), 0.0, 2) == pytest.approx(0.1)
        assert torch.get_num_threads() == 1  # the rest of the probe, on the faster
        assert busy.calls == {1: budget_probe.WARMUP_STEPS + budget_probe.TIMED_STEPS, 2: 1}
        quiet = _Clock({1: 0.1, 2: 0.06})
        monkeypatch.setattr(budget_probe, "time", SimpleNamespace(perf_counter=quiet))
        assert budget_probe._threads_compared(quiet.step, torch.device("cpu"), 0.0, 2) == pytest.approx(0.06)
        assert torch.get_num_threads() == 2
        assert quiet.calls[2] == budget_probe.WARMUP_STEPS + budget_probe.TIMED_STEPS  # timed in full
    finally:
        torch.set_num_threads(original)
