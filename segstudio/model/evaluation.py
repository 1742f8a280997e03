"""Scoring a model: the validation pass of training and ``segstudio-cli evaluate --model``.

Both build a confusion matrix (rows = ground truth, columns = prediction, pixels labelled 255
left out) and turn it into metrics with :func:`segstudio.core.metrics.compute_metrics`, so the GUI,
the trainer and the command line report the same numbers. During training the matrix is built
on the device with ``torch.bincount`` (no per-image copies to the host) and summed over ranks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from segstudio.core.class_mapping import map_model_classes
from segstudio.model.training.losses import IGNORE_INDEX, upsample_logits
from segstudio.model.upsampled_labels import upsampled_labels


def confusion_update(matrix: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
    """Add one batch to the flat (K*K,) int64 ``matrix``: argmax of logits at label size vs labels.

    On a CPU the labels come from the edge pixels alone (:mod:`.upsampled_labels`, the same
    labels): 4 CamVid-sized images of 12 classes took 25 ms instead of 128 ms."""
    num_classes = logits.shape[1]
    if logits.device.type == "cpu":
        size = (labels.shape[-2], labels.shape[-1])
        pred = torch.stack([upsampled_labels(one, size) for one in logits]).long()
    else:
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
        from segstudio.model.training.distributed import all_reduce_sum
        all_reduce_sum(matrix, ctx)
    model.train(was_training)
    return compute_metrics(matrix.view(num_classes, num_classes).cpu().numpy())


def predict_and_score(model_source: str | Path, image_dir: str | Path, gt_dir: str | Path, classes: Any,
                      device: str | None = None,
                      on_progress: Callable[[int, int], None] | None = None,
                      on_warning: Callable[[str], None] | None = None,
                      on_skip: Callable[[str], None] | None = None,
                      aliases: dict[str, str] | None = None, class_file: str | Path = "the class list",
                      on_note: Callable[[str], None] | None = None, amp: bool = True):
    """Predict every image of ``image_dir`` that has ``gt_dir/<stem>.png`` and score the lot.

    ``classes`` is the ground truth's ClassList (or a list of names); model classes are matched
    to it by name and the project's ``aliases`` (``core.class_mapping``; its warnings go to
    ``on_warning``). An image or mask that cannot be read is left out and named through
    ``on_skip`` (raised without it); a mask holding values that ``classes`` (read from
    ``class_file``) does not name ends the evaluation (ClassFileError): its pixels are never
    silently left out. ``on_note`` hears where a public checkpoint's image size and normalisation
    came from (its preprocessor_config.json, or segstudio's rule). ``amp``: the predictor's reduced
    precision where the hardware has it (:class:`~.predictor.Predictor`). Returns
    (:class:`segstudio.core.metrics.SegMetrics` over all scored images, how many were scored), as
    the folder comparison reports its image count.
    Raises TrainingError when no image has a ground-truth mask, or none could be scored.
    """
    from segstudio.core.errors import ImageLoadError, MaskError, TrainingError
    from segstudio.core.images import image_size, list_images, load_image, without_masks
    from segstudio.core.masks import check_class_file_covers, load_mask
    from segstudio.core.metrics import ConfusionMatrix
    from segstudio.model.weights.checkpoints import load_model

    from .predictor import Predictor

    gt_names = list(getattr(classes, "names", classes))
    pairs = [(p, Path(gt_dir) / f"{p.stem}.png") for p in without_masks(list_images(image_dir))]
    pairs = [(p, g) for p, g in pairs if g.is_file()]
    if not pairs:
        raise TrainingError(f"no image in {image_dir} has a ground-truth mask <stem>.png in {gt_dir}")
    model, info = load_model(model_source)
    if on_note and info.preprocessing:
        on_note(info.preprocessing)
    predictor = Predictor(model, info, device=device, amp=amp)
    mapping = map_model_classes(info.class_names, gt_names, aliases)  # the window's rule too
    lut = mapping.lut
    for warning in mapping.warnings:
        if on_warning:
            on_warning(warning)
    matrix = ConfusionMatrix(len(gt_names))
    scored = 0
    for done, (image_path, gt_path) in enumerate(pairs, start=1):
        try:
            gt = load_mask(gt_path, image_size(image_path))
            check_class_file_covers(gt, class_file, len(gt_names), gt_path)  # not skipped: raised
            prediction = predictor.predict(load_image(image_path))  # so is a failing model
        except (ImageLoadError, MaskError) as exc:
            if on_skip is None:
                raise
            on_skip(f"skipped {image_path.name}: {exc}")
            continue
        matrix.update(gt, lut[prediction.labels])
        scored += 1
        if on_progress:
            on_progress(done, len(pairs))
    if not scored:
        raise TrainingError(f"none of the {len(pairs)} image(s) with a mask in {gt_dir} could be scored")
    return matrix.compute(), scored  # a class the project lacks (255) counts as a miss of the true class
