"""A labelled set held in memory: decoded once to uint8 tensors, augmented a batch at a time.

The usual desktop project (tens to a few hundred images) fits in a few hundred MB once images
are shrunk to the largest size training can use (long side = reference × the largest scale
ratio). Holding it as uint8 tensors on the training device and augmenting whole batches
(batch_augment.py) replaces DataLoader worker processes, per-sample OpenCV calls and host→device
copies per step. :func:`memory_budget` decides whether a set qualifies; a larger one streams
through the DataLoader (data.SegmentationDataset) instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from segstudio.core.budgets import TRAIN_SET_MAX_BYTES, TRAIN_SET_RAM_SHARE
from segstudio.core.platform_io import available_memory
from segstudio.core.words import count

from .augment import IGNORE_INDEX, AugmentConfig, fit_long_side, resize_pair, val_transform
from .batch_augment import augment_batch, draw_params
from .dataset import load_pair, sample_rng

MAX_BUDGET = TRAIN_SET_MAX_BYTES  # core.budgets states both
RAM_SHARE = TRAIN_SET_RAM_SHARE
MAX_LEVELS = 3         # full, 1/2 and 1/4 size copies (shrinks up to 8x without aliasing)


def memory_budget() -> int:
    """Bytes a decoded training set may take: min(2 GiB, 25 % of the available RAM)."""
    available = available_memory()  # psutil: Linux, macOS and Windows alike
    if available is None:  # the system would not say: assume a modest desktop
        available = 4 << 30
    return int(min(MAX_BUDGET, available * RAM_SHARE))


class TooLarge(Exception):
    """The set does not fit the budget: stream it instead."""


def _level_stack(pairs: Sequence[tuple[np.ndarray, np.ndarray]], device: torch.device
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(N, 3, H, W) uint8 images, (N, 1, H, W) uint8 labels padded with 255, (N, 2) true sizes."""
    height = max(img.shape[0] for img, _ in pairs)
    width = max(img.shape[1] for img, _ in pairs)
    images = torch.zeros((len(pairs), 3, height, width), dtype=torch.uint8)
    labels = torch.full((len(pairs), 1, height, width), IGNORE_INDEX, dtype=torch.uint8)
    dims = torch.zeros((len(pairs), 2), dtype=torch.int64)
    for i, (img, lab) in enumerate(pairs):
        h, w = lab.shape
        images[i, :, :h, :w] = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        labels[i, 0, :h, :w] = torch.from_numpy(lab)
        dims[i] = torch.tensor([h, w])
    return images.to(device), labels.to(device), dims


class MemoryTrainSet:
    """Training images decoded once; :meth:`batch` returns an augmented batch on ``device``."""

    def __init__(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]], cfg: AugmentConfig, seed: int,
                 device: torch.device) -> None:
        self.cfg, self.seed, self.device = cfg, seed, device
        self.sizes = [(img.shape[0], img.shape[1]) for img, _ in pairs]  # original (h, w)
        longest = math.ceil(cfg.reference * max(cfg.scale_range))
        stored = [_shrink(img, lab, longest) for img, lab in pairs]
        self.levels = [_level_stack(stored, device)]
        smallest = cfg.reference * min(cfg.scale_range)
        while len(self.levels) < MAX_LEVELS and max(max(i.shape[:2]) for i, _ in stored) > 2 * smallest:
            stored = [_shrink(img, lab, max(img.shape[:2]) / 2) for img, lab in stored]
            self.levels.append(_level_stack(stored, device))

    @property
    def nbytes(self) -> int:
        return sum(im.numel() + lab.numel() for im, lab, _ in self.levels)

    def __len__(self) -> int:
        return len(self.sizes)

    def batch(self, indices: Sequence[int], epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Augmented (B, 3, size, size) float32 and (B, size, size) uint8 for ``indices``."""
        params = [draw_params(self.sizes[i][1], self.sizes[i][0], self.cfg,
                              sample_rng(self.seed, epoch, i)) for i in indices]
        size = self.cfg.size
        x = torch.empty((len(indices), 3, size, size), device=self.device)
        y = torch.empty((len(indices), size, size), dtype=torch.uint8, device=self.device)
        chosen = [self._level(i, p.width) for i, p in zip(indices, params)]
        photometric = self.cfg.photometric_p > 0
        for level in sorted(set(chosen)):
            rows = [k for k, c in enumerate(chosen) if c == level]
            images, labels, dims = self.levels[level]
            pick = torch.tensor([indices[k] for k in rows], device=self.device)
            bx, by = augment_batch(images[pick], labels[pick], dims[pick.cpu()], [params[k] for k in rows],
                                   size, photometric)
            x[rows], y[rows] = bx, by
        return x, y

    def _level(self, index: int, target_width: int) -> int:
        """The smallest copy still at least as wide as the resized image (at most 2x wider)."""
        best = 0
        for level, (_, _, dims) in enumerate(self.levels):
            if int(dims[index, 1]) >= target_width:
                best = level
        return best


def _shrink(image: np.ndarray, label: np.ndarray, long_side: float) -> tuple[np.ndarray, np.ndarray]:
    """Area-shrink so the long side is at most ``long_side`` (never enlarge)."""
    h, w = label.shape
    if max(h, w) <= long_side:
        return image, label
    width, height = fit_long_side(w, h, long_side)
    return resize_pair(image, label, width, height)


def load_train_set(project: Any, entries: Sequence[Any], cfg: AugmentConfig, seed: int,
                   device: torch.device, budget: int | None = None) -> MemoryTrainSet:
    """Decode ``entries`` into a :class:`MemoryTrainSet`; :class:`TooLarge` past ``budget``."""
    budget = memory_budget() if budget is None else budget
    longest = math.ceil(cfg.reference * max(cfg.scale_range))
    pairs, total = [], 0
    for entry in entries:
        image, label = _shrink(*load_pair(project, entry), longest)
        total += image.nbytes + label.nbytes
        if total * 4 // 3 > budget:  # mip levels add up to a third
            raise TooLarge(f"{count(len(entries), 'training image')} exceed the {budget >> 20} MB budget")
        pairs.append((image, label))
    return MemoryTrainSet(pairs, cfg, seed, device)


def load_val_batches(project: Any, entries: Sequence[Any], reference: int, batch: int,
                     device: torch.device, budget: int | None = None
                     ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Validation inputs prepared once (val_transform), grouped by shape into batches on ``device``."""
    budget = memory_budget() if budget is None else budget
    by_shape: dict[tuple[int, ...], list[tuple[np.ndarray, np.ndarray]]] = {}
    total = 0
    for entry in entries:
        x, y = val_transform(*load_pair(project, entry), reference)
        total += x.nbytes + y.nbytes
        if total > budget:
            raise TooLarge(f"{count(len(entries), 'validation image')} exceed the {budget >> 20} MB budget")
        by_shape.setdefault(x.shape, []).append((x, y))
    batches = []
    for group in by_shape.values():
        for start in range(0, len(group), batch):
            chunk = group[start:start + batch]
            batches.append((torch.from_numpy(np.stack([c[0] for c in chunk])).to(device),
                            torch.from_numpy(np.stack([c[1] for c in chunk])).to(device)))
    return batches


def image_sizes(project: Any, entries: Iterable[Any]) -> list[tuple[int, int]]:
    """(height, width) of each entry's image as displayed, from the file header (cheap); an
    unreadable file is left out here and reported by name when it is loaded."""
    from segstudio.core.images import image_size
    sizes = []
    for entry in entries:
        try:
            width, height = image_size(entry.image_path)
        except Exception:  # noqa: BLE001 - reported with its name by load_pair
            continue
        sizes.append((height, width))
    return sizes


__all__ = ["MemoryTrainSet", "TooLarge", "load_train_set", "load_val_batches", "memory_budget",
           "image_sizes"]
