"""Scoring a model: the validation pass of training and ``segstudio-cli evaluate --model``.

Both build a confusion matrix (rows = ground truth, columns = prediction, pixels labelled 255
left out) and turn it into metrics with :func:`segstudio.core.metrics.compute_metrics`, so the GUI,
the trainer and the command line report the same numbers. During training the matrix is built
on the device with ``torch.bincount`` (no per-image copies to the host) and summed over ranks.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from .losses import IGNORE_INDEX, upsample_logits


def confusion_update(matrix: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
    """Add one batch to the flat (K*K,) int64 ``matrix``: argmax of logits at label size vs labels."""
    num_classes = logits.shape[1]
    pred = upsample_logits(logits.float(), labels).argmax(dim=1)
    labels = labels.long()
    valid = labels != IGNORE_INDEX
    index = labels[valid] * num_classes + pred[valid]
    matrix += torch.bincount(index, minlength=num_classes * num_classes)


@torch.no_grad()
def validate(model: nn.Module, loader, num_classes: int, device: torch.device,
             autocast: Callable[[], Any] = contextlib.nullcontext, ctx=None):
    """Metrics of ``model`` on ``loader`` (images + padded labels), summed over ranks if ``ctx``."""
    from segstudio.core.metrics import compute_metrics
    was_training = model.training
    model.eval()
    matrix = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)
    memory = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    for images, labels in loader:
        images = images.to(device, non_blocking=True).contiguous(memory_format=memory)
        with autocast():
            logits = model(images)
        confusion_update(matrix, logits, labels.to(device, non_blocking=True))
    if ctx is not None:
        from .distributed import all_reduce_sum
        all_reduce_sum(matrix, ctx)
    model.train(was_training)
    return compute_metrics(matrix.view(num_classes, num_classes).cpu().numpy())


def class_lut(model_names: Sequence[str], gt_names: Sequence[str]) -> np.ndarray:
    """(256,) uint8 map from model class index to ground-truth index, matched by name.

    Index 0 (background, whatever its spelling) maps to 0; a model class the ground truth does not
    know maps to 0 too (it can only be wrong where the truth has a labelled class).
    """
    by_name = {name.strip().lower(): i for i, name in enumerate(gt_names)}
    lut = np.zeros(256, dtype=np.uint8)
    lut[IGNORE_INDEX] = IGNORE_INDEX
    for i, name in enumerate(model_names):
        if i > 0:
            lut[i] = by_name.get(name.strip().lower(), 0)
    return lut


def predict_and_score(model_source: str | Path, image_dir: str | Path, gt_dir: str | Path, classes: Any,
                      device: str | None = None,
                      on_progress: Callable[[int, int], None] | None = None):
    """Predict every image of ``image_dir`` that has ``gt_dir/<stem>.png`` and score the lot.

    ``classes`` is the ground truth's ClassList (or a list of names); model classes are matched
    to it by name. Returns :class:`segstudio.core.metrics.SegMetrics` over all scored images.
    Raises TrainingError when no image has a ground-truth mask.
    """
    from segstudio.core.errors import TrainingError
    from segstudio.core.images import image_size, list_images, load_image, without_masks
    from segstudio.core.masks import load_mask
    from segstudio.core.metrics import ConfusionMatrix, compute_metrics
    from .checkpoints import load_model
    from .predictor import Predictor

    gt_names = list(getattr(classes, "names", classes))
    pairs = [(p, Path(gt_dir) / f"{p.stem}.png") for p in without_masks(list_images(image_dir))]
    pairs = [(p, g) for p, g in pairs if g.is_file()]
    if not pairs:
        raise TrainingError(f"no image in {image_dir} has a ground-truth mask <stem>.png in {gt_dir}")
    model, info = load_model(model_source)
    predictor = Predictor(model, info, device=device)
    lut = class_lut(info.class_names, gt_names)
    matrix = ConfusionMatrix(len(gt_names))
    for done, (image_path, gt_path) in enumerate(pairs, start=1):
        gt = load_mask(gt_path, image_size(image_path), len(gt_names))
        prediction = predictor.predict(load_image(image_path))
        matrix.update(gt, lut[prediction.labels])
        if on_progress:
            on_progress(done, len(pairs))
    return compute_metrics(matrix.matrix)
