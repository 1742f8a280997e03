"""The training step's precision on a CPU: bf16 autocast where the CPU has native bf16 (the forward's
matrix products in bf16, the weights, gradients and optimiser state in float32), float32 elsewhere
and with ``amp`` off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_synth import tiny_config  # noqa: E402

from segstudio.model import device as device_module
from segstudio.model.segformer import SegFormer
from segstudio.model.training.losses import build_loss
from segstudio.model.training.optimiser import Optimiser
from segstudio.model.training.recipe import choose
from segstudio.model.training.types import TrainConfig


@pytest.mark.parametrize(("native", "amp", "expected"), [
    (True, True, torch.bfloat16), (True, False, torch.float32), (False, True, torch.float32)])
def test_a_cpu_step_trains_in_the_precision_the_machine_gives(monkeypatch, native, amp, expected):
    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: native)
    torch.manual_seed(0)
    model = SegFormer(tiny_config()).train()
    seen: list[torch.dtype] = []
    model.decode_head.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    cfg = TrainConfig(init="b0", model_config=tiny_config(), amp=amp)
    step = Optimiser(model, model, build_loss("ce", num_labels=4), cfg, choose(cfg, []), 10, torch.device("cpu"))
    assert step.amp_dtype == (torch.bfloat16 if expected == torch.bfloat16 else None)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(2, 3, 64, 64), torch.randint(0, 4, (2, 64, 64))
    loss = step.step(x, y, 3)
    assert seen == [expected] and torch.isfinite(loss) and loss.dtype == torch.float32
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in model.parameters())
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))



@pytest.mark.slow
@pytest.mark.parametrize("native", [True, False])
def test_a_run_says_when_it_trains_in_mixed_precision(monkeypatch, tmp_path, native):
    from train_synth import make_project

    from segstudio.core.project import Project
    from segstudio.model.training.train import train

    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: native)
    project = Project(*make_project(tmp_path, count=3))
    result = train(project, TrainConfig(model_config=tiny_config(), size=64, batch=2, steps=2, device="cpu"))
    said = [n for n in result.notes if n.startswith("mixed precision")]
    assert said == (["mixed precision: bfloat16 autocast, the weights kept in float32 "
                     "(segstudio-cli train --no-amp: float32 throughout)"] if native else [])
