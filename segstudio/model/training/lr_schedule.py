"""Optimiser parameter groups and the learning-rate schedule of SegFormer fine-tuning.

SegFormer's recipe (NVlabs config): AdamW, weight decay 0.01 except on norms, decoder head at ten
times the encoder's learning rate, linear warmup then poly decay (power 1) to 0, per iteration.
We also spare biases from weight decay (decaying a bias towards 0 has no regularising meaning).
The schedule is a pure function of the step, so a resumed run only needs the step counter.
"""

from __future__ import annotations

import torch
from torch import nn

HEAD_PREFIX = "decode_head."


def param_groups(model: nn.Module, lr: float, weight_decay: float = 0.01, head_lr_mult: float = 10.0
                 ) -> list[dict]:
    """Four groups: (encoder | head) × (decayed | not decayed); each remembers its ``base_lr``.

    Not decayed: every parameter with one dimension or fewer (LayerNorm/BatchNorm weights, biases).
    """
    buckets: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        is_head = name.startswith(HEAD_PREFIX) or f".{HEAD_PREFIX}" in name
        decay = param.ndim > 1
        buckets.setdefault((is_head, decay), []).append(param)
    groups = []
    for (is_head, decay), params in sorted(buckets.items()):
        base = lr * (head_lr_mult if is_head else 1.0)
        groups.append({"params": params, "lr": base, "base_lr": base,
                       "weight_decay": weight_decay if decay else 0.0,
                       "name": f"{'head' if is_head else 'encoder'}{'' if decay else '_no_decay'}"})
    return groups


def lr_factor(step: int, total_steps: int, warmup_steps: int, power: float = 1.0,
              warmup_ratio: float = 1e-6, min_factor: float = 0.0) -> float:
    """Multiplier of the base lr at optimiser step ``step`` (0-based).

    Poly decay ``(1 - step/total)^power`` times a linear warmup that rises from ``warmup_ratio`` to 1
    over ``warmup_steps`` (mmcv's convention: the warmup scales the poly value).
    """
    total = max(1, total_steps)
    poly = max(0.0, 1.0 - min(step, total) / total) ** power
    poly = min_factor + (1.0 - min_factor) * poly
    if warmup_steps > 0 and step < warmup_steps:
        k = (1.0 - step / warmup_steps) * (1.0 - warmup_ratio)
        return poly * (1.0 - k)
    return poly


def set_lr(optimizer: torch.optim.Optimizer, factor: float) -> float:
    """Apply ``factor`` to every group's base lr; returns the encoder's (first group's) lr."""
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * factor
    return optimizer.param_groups[0]["lr"]


def default_warmup(total_steps: int, pretrained: bool) -> int:
    """Warmup length: the recipe's 1500 iterations, but never more than 10 % (pretrained) or 5 %
    (from scratch) of a short run, so small projects still spend most steps at full rate."""
    share = 0.1 if pretrained else 0.05
    return int(min(1500, max(1, round(total_steps * share))))


# --- live training ---------------------------------------------------------------------------------
# Live mode has no planned end, so poly decay to a total has nothing to count towards. Instead the
# rate decays with the steps since the labels last changed meaningfully: a constant rate made the
# held-out mIoU of tests/benchmarks/live_speed.py peak (0.95 after 200 steps) and then wander down
# (0.83 at 486 steps) as the same few scribbles were fitted ever harder.
LIVE_WARMUP_STEPS = 12  # once, at the start: a fresh head's first gradients are large
LIVE_HALF_LIFE = 120    # steps for the rate above the floor to halve (~30 s on a 2-core CPU)
LIVE_FLOOR = 0.1        # never below this share of the base rate: the model keeps following
LIVE_RESTART = 0.5      # new strokes lift the rate back to at least this share


def live_lr_factor(step: int, since_change: int | None, warmup: int = LIVE_WARMUP_STEPS,
                   half_life: float = LIVE_HALF_LIFE, floor: float = LIVE_FLOOR,
                   restart: float = LIVE_RESTART) -> float:
    """Multiplier of the base lr at live step ``step`` (0-based), ``since_change`` steps after the
    labels last changed meaningfully (None: not since the start).

    The start decays from 1, the latest change from ``restart``; the higher of the two counts, so a
    change never lowers the rate, and the warmup (linear over the first ``warmup`` steps of the
    whole run) is never repeated. Both decays are exponential towards ``floor``.
    """
    def decayed(peak: float, steps: int) -> float:
        return floor + max(0.0, peak - floor) * 0.5 ** (max(0, steps) / half_life)

    factor = decayed(1.0, step - warmup)
    if since_change is not None:
        factor = max(factor, decayed(restart, since_change))
    if warmup > 0 and step < warmup:
        factor *= (step + 1) / warmup
    return factor
