"""The training recipe chosen from the situation, so a user never has to know about learning rates.

Inputs: whether the encoder starts random or pretrained, how many images are labelled, and how
large they are next to the crop size. Every value the user set explicitly in TrainConfig wins;
only the ``None`` ones are filled in here. The evidence for each choice is in the README
("Training defaults") and comes from tests/benchmarks/loop_speed.py.

* **Pretrained encoder:** SegFormer's published recipe — AdamW 6e-5, head ×10, warmup 10 % (at
  most 1500 steps), poly decay; random resize 0.5–2.0 and colour jitter.
* **From scratch:** AdamW 1e-3 (the plain loop's rate), head ×1, warmup 5 %, poly decay; on
  small sets (< 200 images) no random resize and no colour jitter: crops and flips only, what the
  plain loop of tests/benchmarks/loop_speed.py does. A random encoder learns colour, texture and
  scale from a few images only if they keep looking like themselves: on that benchmark's texture
  set (26 training images, 600 steps) random resize 0.75–1.5 cost 0.26 held-out mIoU (0.41 vs
  0.67), and 3e-3 left B0 stuck near 0.35 for 300 steps where 1e-3 climbed to 0.55. Larger
  sets keep a mild random resize 0.75–1.5 and colour jitter.
* **Which weights are the model:** the best validation point when the validation split has at
  least 20 images; below that the run's final weights (the poly schedule ends at lr 0, where a
  model is usually best, and picking the best of ten scores on six images picks noise: on the
  texture set the best-validation model scored 0.60 held-out, the final one 0.67). Below that size
  the split only draws the curve, so it holds out fewer images (core/validation_split.py).
* **Working size:** images whose long side is at most 1.5× the crop size are trained and
  predicted at their own size (random crops, as a plain loop does) instead of being shrunk to the
  crop size, which would blur fine textures. Larger images are resized so their long side is the
  crop size, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from segstudio.core.validation_split import TRUSTED_VALIDATION, trusted
from segstudio.core.words import count

PRETRAINED_LR = 6e-5
SCRATCH_LR = 1e-3
SMALL_SET = 200                     # images: below this a scratch run keeps sizes and colours untouched
NATIVE_LIMIT = 1.5                  # images up to 1.5x the crop size keep their own size
PRETRAINED_SCALES = (0.5, 2.0)
SCRATCH_SCALES = (0.75, 1.5)        # from scratch, large sets
SMALL_SET_SCALES = (1.0, 1.0)       # from scratch, small sets


@dataclass
class Recipe:
    """The settings a run actually uses, with a line for the user on each choice made for them."""

    lr: float
    head_lr_mult: float
    scale_range: tuple[float, float]
    photometric_p: float
    scale_ref: int
    keep_best: bool = True          # False: the model is the run's last validated weights
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


def choose(config, sizes: Sequence[tuple[int, int]], val_count: int = TRUSTED_VALIDATION) -> Recipe:
    """The recipe for ``config`` (TrainConfig) on training images of (height, width) ``sizes``,
    validated on ``val_count`` images."""
    scratch = config.is_scratch()
    small = len(sizes) < SMALL_SET
    notes = []
    lr = default_lr(config)
    head = config.head_lr_mult if config.head_lr_mult is not None else (1.0 if scratch else 10.0)
    if config.scale_range is not None:
        scales = tuple(config.scale_range)
    else:
        scales = (SMALL_SET_SCALES if small else SCRATCH_SCALES) if scratch else PRETRAINED_SCALES
    photometric = 0.5 if not (scratch and small) else 0.0
    ref = working_size(sizes, config.size)
    if config.lr is None:
        resize = "no random resize" if scales == (1, 1) else f"random resize {scales[0]:g}-{scales[1]:g}"
        notes.append(f"recipe: {'from scratch' if scratch else 'pretrained'}, {count(len(sizes), 'image')}: "
                     f"lr {lr:g}, {resize}{', colour jitter' if photometric else ''}")
    keep_best = trusted(val_count)
    if not keep_best and val_count:
        notes.append(f"only {count(val_count, 'validation image')}: too few to pick a best point, the model is "
                     "the run's final one")
    if ref != config.size:
        notes.append(f"images of about {ref} px are trained at their own size (crops of {config.size})")
    return Recipe(lr, head, (float(scales[0]), float(scales[1])), photometric, ref, keep_best, notes)
