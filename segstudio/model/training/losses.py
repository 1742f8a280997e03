"""Segmentation losses on SegFormer logits.

SegFormer predicts at 1/4 resolution; every loss here first upsamples the logits bilinearly
(``align_corners=False``) to the label size, as the reference implementations do, so the loss sees
the same picture the user painted. Pixels labelled 255 (ignore) take no part in any loss. Means are
over valid pixels (Hugging Face's convention), so the loss scale does not depend on how much of
an image is marked ignore.

``build_loss("0.5*ce+1.0*dice")`` returns one callable that sums weighted terms; that string is
what the command line and the GUI store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from segstudio.core.masks import label_counts
from segstudio.core.palette import IGNORE_INDEX

from .upsample_ce import upsample_cross_entropy

LOSS_NAMES = ("ce", "focal", "dice", "bce")


def upsample_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Logits resized to the label's (H, W) with bilinear interpolation; unchanged if already there."""
    size = tuple(labels.shape[-2:])
    if tuple(logits.shape[-2:]) == size:
        return logits
    return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)


class CrossEntropyLoss(nn.Module):
    """Cross-entropy with optional class weights (not negative) and label smoothing; mean over
    valid pixels.

    With class weights the mean is weighted (the sum of weighted losses over the sum of the
    weights of valid pixels), which is what ``F.cross_entropy`` does.
    """

    def __init__(self, class_weights: Sequence[float] | torch.Tensor | None = None,
                 label_smoothing: float = 0.0, ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        if weight is not None and bool((weight < 0).any()):
            raise ValueError("class weights must not be negative")
        self.register_buffer("weight", weight, persistent=False)
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        # the value and gradient of F.cross_entropy(upsample_logits(logits, labels), ...) without
        # the full-size logits (see upsample_ce.py); all pixels ignored gives 0, not NaN
        return upsample_cross_entropy(logits, labels, self.weight, self.ignore_index, self.label_smoothing)


class FocalLoss(nn.Module):
    """Focal loss ``-alpha_t (1 - p_t)^gamma log p_t`` averaged over valid pixels.

    ``alpha`` is a float (same factor for every class) or one weight per class.
    """

    def __init__(self, gamma: float = 2.0, alpha: float | Sequence[float] | None = None,
                 ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        self.gamma = float(gamma)
        alpha_t = None if alpha is None else torch.as_tensor(alpha, dtype=torch.float32)
        self.register_buffer("alpha", alpha_t, persistent=False)
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits = upsample_logits(logits, labels).float()
        labels = labels.long()
        valid = labels != self.ignore_index
        safe = torch.where(valid, labels, torch.zeros_like(labels))
        log_p = F.log_softmax(logits, dim=1).gather(1, safe.unsqueeze(1)).squeeze(1)
        p = log_p.exp()
        loss = -((1.0 - p).clamp_min(0.0) ** self.gamma) * log_p
        if self.alpha is not None:
            alpha = self.alpha.to(loss.device)
            loss = loss * (alpha if alpha.ndim == 0 else alpha[safe])
        loss = loss * valid
        return loss.sum() / valid.sum().clamp_min(1)


class DiceLoss(nn.Module):
    """Soft multi-class Dice: ``1 - mean_c (2 sum p*g + eps) / (sum p + sum g + eps)``.

    Sums run over the whole batch and valid pixels only. Classes absent from both the labels and
    the prediction contribute a Dice of 1 (thanks to ``eps``), so they do not pull the loss.
    """

    def __init__(self, eps: float = 1.0, ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        self.eps = float(eps)
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits = upsample_logits(logits, labels).float()
        labels = labels.long()
        num_classes = logits.shape[1]
        valid = (labels != self.ignore_index).unsqueeze(1).float()
        safe = torch.where(labels != self.ignore_index, labels, torch.zeros_like(labels))
        probs = logits.softmax(dim=1) * valid
        onehot = F.one_hot(safe, num_classes).permute(0, 3, 1, 2).float() * valid
        dims = (0, 2, 3)
        inter = (probs * onehot).sum(dims)
        denom = probs.sum(dims) + onehot.sum(dims)
        dice = (2.0 * inter + self.eps) / (denom + self.eps)
        return 1.0 - dice.mean()


class BinaryLoss(nn.Module):
    """BCE-with-logits for one foreground class (``num_labels == 1``); mean over valid pixels.

    Labels: 0 = background, any other class value = foreground, 255 = ignored.
    """

    def __init__(self, pos_weight: float | None = None, ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        self.pos_weight = pos_weight
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits = upsample_logits(logits, labels).float()[:, 0]
        valid = labels != self.ignore_index
        target = ((labels > 0) & valid).float()
        pos_weight = None if self.pos_weight is None else torch.tensor(self.pos_weight, device=logits.device)
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none", pos_weight=pos_weight)
        loss = loss * valid
        return loss.sum() / valid.sum().clamp_min(1)


class WeightedSum(nn.Module):
    """``sum_i w_i * loss_i(logits, labels)``; ``terms`` keeps the names for logging."""

    def __init__(self, terms: list[tuple[str, float, nn.Module]]) -> None:
        super().__init__()
        self.names = [name for name, _, _ in terms]
        self.weights = [weight for _, weight, _ in terms]
        self.losses = nn.ModuleList([loss for _, _, loss in terms])

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        total = None
        for weight, loss in zip(self.weights, self.losses):
            value = weight * loss(logits, labels)
            total = value if total is None else total + value
        return total

    def __repr__(self) -> str:
        return "+".join(f"{w:g}*{n}" for n, w in zip(self.names, self.weights))


_TERM = re.compile(r"^\s*(?:(\d+(?:\.\d*)?|\.\d+)\s*\*\s*)?([a-z]+)\s*$")


def parse_loss_spec(spec: str) -> list[tuple[float, str]]:
    """``"0.5*ce+dice"`` -> ``[(0.5, "ce"), (1.0, "dice")]``; ValueError on anything else."""
    terms = []
    for part in spec.lower().split("+"):
        match = _TERM.match(part)
        if not match or match.group(2) not in LOSS_NAMES:
            raise ValueError(f"bad loss term {part.strip()!r} in {spec!r}; use e.g. 'ce', 'ce+dice', "
                             f"'0.5*ce+1.0*dice' with terms {', '.join(LOSS_NAMES)}")
        terms.append((float(match.group(1) or 1.0), match.group(2)))
    return terms


def build_loss(spec: str = "ce", class_weights: Sequence[float] | torch.Tensor | None = None,
               label_smoothing: float = 0.0, num_labels: int | None = None,
               focal_gamma: float = 2.0, focal_alpha: float | Sequence[float] | None = None,
               dice_eps: float = 1.0) -> WeightedSum:
    """The loss named by ``spec`` as one module ``loss(logits, labels) -> scalar``.

    With ``num_labels == 1`` the model has a single foreground channel: "ce" (and "bce") become
    BCE-with-logits; Dice and focal need two or more channels. Class weights apply to CE; for
    focal, pass ``focal_alpha`` (class weights are used as alpha when it is None).
    """
    terms: list[tuple[str, float, nn.Module]] = []
    for weight, name in parse_loss_spec(spec):
        if num_labels == 1 or name == "bce":
            if num_labels not in (None, 1) or name in ("dice", "focal"):
                raise ValueError(f"loss {name!r} does not fit a model with {num_labels} output(s)")
            terms.append(("bce", weight, BinaryLoss()))
        elif name == "ce":
            terms.append((name, weight, CrossEntropyLoss(class_weights, label_smoothing)))
        elif name == "focal":
            alpha = focal_alpha if focal_alpha is not None else class_weights
            terms.append((name, weight, FocalLoss(focal_gamma, alpha)))
        else:
            terms.append((name, weight, DiceLoss(dice_eps)))
    return WeightedSum(terms)


def class_pixel_counts(masks: Sequence[np.ndarray], num_classes: int) -> np.ndarray:
    """Pixels of each class over ``masks`` (ignore and unknown values excluded), int64 (K,)."""
    counts = np.zeros(num_classes, dtype=np.int64)
    for mask in masks:
        counts += label_counts(mask)[:num_classes]
    return counts


def class_weights_from_counts(counts: np.ndarray, method: str = "median") -> np.ndarray:
    """Class weights from pixel counts; absent classes get weight 0 (they cannot appear in labels).

    ``median``: median-frequency balancing, ``w_c = median(f) / f_c`` over present classes
    (Eigen & Fergus). ``inv_sqrt``: ``w_c = 1/sqrt(f_c)`` normalised so present classes average 1,
    a milder balance that keeps rare classes from dominating.
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    weights = np.zeros_like(counts)
    if not present.any():
        return weights.astype(np.float32)
    freq = counts[present] / counts[present].sum()
    if method == "median":
        weights[present] = np.median(freq) / freq
    elif method in ("inv_sqrt", "inverse-sqrt", "sqrt"):
        raw = 1.0 / np.sqrt(freq)
        weights[present] = raw / raw.mean()
    else:
        raise ValueError(f"unknown class weight method {method!r} (median or inv_sqrt)")
    return weights.astype(np.float32)


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
__all__ = ["IGNORE_INDEX", "upsample_logits", "CrossEntropyLoss", "FocalLoss", "DiceLoss",
           "BinaryLoss", "WeightedSum", "parse_loss_spec", "build_loss", "class_pixel_counts",
           "class_weights_from_counts"]
