"""Shared fixtures for the model tests: a tiny config and weight randomisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segstudio.model.segformer import SegFormerConfig

TINY = SegFormerConfig(hidden_sizes=(16, 32, 48, 64), depths=(1, 2, 1, 1), num_heads=(1, 2, 3, 4),
                       decoder_hidden_size=32, num_labels=5)


def randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Weights far from the init (so logits are O(1) and swapped tensors would show), BN stats too."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if not p.is_floating_point():
                continue
            if name.endswith("running_var"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
            elif p.ndim == 1:
                base = 1.0 if ("norm" in name and name.endswith("weight")) else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
    return model


@pytest.fixture
def tiny_config() -> SegFormerConfig:
    return TINY


@pytest.fixture
def randomised():
    """The :func:`randomise` function (conftest helpers cannot be imported in importlib mode)."""
    return randomise
