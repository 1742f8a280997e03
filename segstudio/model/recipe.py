"""The training recipe chosen from the situation, so a user never has to know about learning rates.

Inputs: whether the encoder starts random or pretrained, how many images are labelled, and how
large they are next to the crop size. Every value the user set explicitly in TrainConfig wins;
only the ``None`` ones are filled in here. The evidence for each choice is in the README
("Training defaults") and comes from tests/benchmarks/loop_speed.py.

* **Pretrained encoder:** SegFormer's published recipe — AdamW 6e-5, head ×10, warmup 10 % (at
  most 1500 steps), poly decay; random resize 0.5–2.0 and colour jitter.
* **From scratch:** AdamW 3e-3, head ×1, warmup 5 %, poly decay (measured against 1e-3, the plain
  loop's rate: tiny SegFormer, 24 texture-defined images of 64², 240 steps: held-out mIoU 0.44 vs
  0.35; on the shapes set of tests/model/test_train.py both pass 0.9); a milder random resize
  0.75–1.5 and, on small sets (< 200 images), no colour jitter — what the plain loop of the issue
  did (crops and flips only) when it beat the previous defaults (0.956 vs 0.878): a random
  encoder learns colour, texture and scale from a few images only if they keep looking like
  themselves.
* **Working size:** images whose long side is at most 1.5× the crop size are trained and
  predicted at their own size (random crops, as a plain loop does) instead of being shrunk to the
  crop size, which would blur fine textures. Larger images are resized so their long side is the
  crop size, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

PRETRAINED_LR = 6e-5
SCRATCH_LR = 3e-3
SMALL_SET = 200                     # images: below this a scratch run keeps colours untouched
NATIVE_LIMIT = 1.5                  # images up to 1.5x the crop size keep their own size
PRETRAINED_SCALES = (0.5, 2.0)
SCRATCH_SCALES = (0.75, 1.5)


@dataclass
class Recipe:
    """The settings a run actually uses, with a line for the user on each choice made for them."""

    lr: float
    head_lr_mult: float
    scale_range: tuple[float, float]
    photometric_p: float
    scale_ref: int
    notes: list[str] = field(default_factory=list)


def working_size(sizes: Sequence[tuple[int, int]], crop: int) -> int:
    """Long side images are resized to (at ratio 1) and predicted at: their own (median, rounded
    up to a multiple of 32) when that is at most 1.5× the crop, else the crop size."""
    if not sizes:
        return crop
    longs = sorted(max(h, w) for h, w in sizes)
    median = longs[len(longs) // 2]
    native = -(-median // 32) * 32
    return native if crop <= native <= NATIVE_LIMIT * crop else crop


def default_lr(config) -> float:
    """The learning rate a run uses: the user's, else the recipe's for its starting point."""
    if config.lr is not None:
        return config.lr
    return SCRATCH_LR if config.is_scratch() else PRETRAINED_LR


def choose(config, sizes: Sequence[tuple[int, int]]) -> Recipe:
    """The recipe for ``config`` (TrainConfig) on images of (height, width) ``sizes``."""
    scratch = config.is_scratch()
    small = len(sizes) < SMALL_SET
    notes = []
    lr = default_lr(config)
    head = config.head_lr_mult if config.head_lr_mult is not None else (1.0 if scratch else 10.0)
    if config.scale_range is not None:
        scales = tuple(config.scale_range)
    else:
        scales = SCRATCH_SCALES if scratch else PRETRAINED_SCALES
    photometric = 0.5 if not (scratch and small) else 0.0
    ref = working_size(sizes, config.size)
    if config.lr is None:
        notes.append(f"recipe: {'from scratch' if scratch else 'pretrained'}, {len(sizes)} images: "
                     f"lr {lr:g}, random resize {scales[0]:g}-{scales[1]:g}"
                     f"{', colour jitter' if photometric else ''}")
    if ref != config.size:
        notes.append(f"images of about {ref} px are trained at their own size (crops of {config.size})")
    return Recipe(lr, head, (float(scales[0]), float(scales[1])), photometric, ref, notes)
