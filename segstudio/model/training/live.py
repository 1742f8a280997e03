"""Live training: a model that keeps learning, a few steps at a time, from what is painted now.

The full trainer (:mod:`segstudio.model.training.loop`) runs a planned schedule over a fixed set.
Live mode is different: the set changes with every stroke, the run has no end, and between bursts
the window wants a prediction of the image on screen. So :class:`LiveTrainer` keeps one model and
one optimiser in memory, trains ``steps`` at a time on whatever samples it is given (random crops
and flips; pixels labelled 255 -- unpainted scribble areas, ignore -- teach nothing), predicts an
image in between, and saves itself as an ordinary model folder when live mode ends. Its learning
rate decays with the steps since the labels last changed (:func:`~.schedule.live_lr_factor`); the
session calls :meth:`LiveTrainer.labels_changed` when new strokes arrive.

It runs on one thread, so that painting keeps the other core. Its steps are the planned run's:
fused AdamW, bf16 autocast on a CPU with native bf16 (:func:`~segstudio.model.device.training_autocast_dtype`)
and the chunked upsample + cross-entropy of :mod:`.upsample_ce`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from segstudio.core.palette import IGNORE_INDEX
from segstudio.model.data.augment import IMAGENET_MEAN, IMAGENET_STD
from segstudio.model.device import autocast_in, training_autocast_dtype
from segstudio.model.predictor import uncertainty_maps
from segstudio.model.uncertainty import image_score
from segstudio.model.upsampled_labels import upsampled_labels
from segstudio.model.weights.checkpoints import load_model, save_model
from segstudio.model.weights.model_source import is_variant, local_source, training_start
from segstudio.model.weights.preprocessing import for_training

from .history import write_history
from .losses import build_loss
from .lr_schedule import live_lr_factor, param_groups, set_lr
from .recipe import PRETRAINED_LR

# From scratch, live mode keeps 3e-3 (a planned run uses 1e-3): it trains in short bursts on thin
# scribbles, the first overlay must come within seconds, and its schedule (schedule.live_lr_factor)
# halves the rate as the labels settle; tests/benchmarks/live_speed.py measured it at this rate.
LIVE_SCRATCH_LR = 3e-3
# Crops, and the scale images are seen at (long side at most twice the crop, see _fit). From
# scratch, 128 (a 480x360 photo seen at 256x192) beats 256 on real road scenes: held-out mIoU 0.46-0.50
# after 120 s instead of 0.22 (tests/benchmarks/live_speed.py --set camvid, one thread): four times
# cheaper steps and objects the size of the network's receptive field. A trained model keeps 256.
SCRATCH_SIZE, MODEL_SIZE = 128, 256

Sample = tuple[np.ndarray, np.ndarray]  # (H, W, 3) uint8 image, (H, W) uint8 labels (255: unlabelled)


class LiveTrainer:
    """One model learning in bursts; ``notes`` says where it started from."""

    def __init__(self, class_names: Sequence[str], init: str = "auto", size: int | None = None, batch: int = 4,
                 seed: int = 0, save_dir: str | Path | None = None, lr: float | None = None,
                 balanced: bool = False) -> None:
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        start, note = training_start(init, save_dir)
        model, info = load_model(local_source(start, save_dir, download=False), class_names=list(class_names))
        self.model, self.info = model.train(), info
        scratch = is_variant(start)
        size = size if size is not None else (SCRATCH_SIZE if scratch else MODEL_SIZE)
        self.info.image_size = size
        normalisation = for_training(self.info, start)
        self.size, self.batch = size, batch
        self.balanced = balanced  # crops centred on a painted pixel of a class drawn uniformly
        self.lr = lr if lr is not None else (LIVE_SCRATCH_LR if scratch else PRETRAINED_LR)
        self.optimizer = torch.optim.AdamW(param_groups(model, self.lr, 0.01, 1.0 if scratch else 10.0),
                                           lr=self.lr, fused=True)
        self.loss_fn = build_loss("ce", num_labels=len(class_names))
        self.amp_dtype = training_autocast_dtype("cpu")
        self.notes = [n for n in (note, normalisation) if n]
        self.steps = 0
        self.changed_at: int | None = None  # step of the latest meaningful change of the labels
        self.history: list[dict] = []
        self._mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0

    # --- learning --------------------------------------------------------------------------------
    def labels_changed(self) -> None:
        """New strokes: lift the learning rate again (see :func:`~.schedule.live_lr_factor`)."""
        self.changed_at = self.steps

    def lr_factor(self) -> float:
        """The share of the base learning rate the next step uses."""
        since = None if self.changed_at is None else self.steps - self.changed_at
        return live_lr_factor(self.steps, since)

    def train(self, samples: Sequence[Sample], steps: int,
              should_stop: Callable[[], bool] | None = None) -> float:
        """``steps`` optimiser steps on random crops of ``samples`` (stops early when told); the
        mean loss, NaN when nothing was labelled."""
        usable = [s for s in samples if (s[1] != IGNORE_INDEX).any()]
        if not usable:
            return math.nan
        self.model.train()
        losses = []
        started = time.perf_counter()
        for _ in range(steps):
            if should_stop is not None and should_stop():
                break
            images, labels = self._batch(usable)
            set_lr(self.optimizer, self.lr_factor())
            with autocast_in("cpu", self.amp_dtype):
                logits = self.model(images)
            loss = self.loss_fn(logits.float(), labels)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            losses.append(loss.item())
        mean = float(np.mean(losses)) if losses else math.nan
        self.history.append({"step": self.steps, "train_loss": mean,
                             "lr": self.optimizer.param_groups[0]["lr"],
                             "seconds": round(time.perf_counter() - started, 3)})
        return mean

    def _batch(self, samples: Sequence[Sample]) -> tuple[torch.Tensor, torch.Tensor]:
        """Random crops (padded with ignore where an image is smaller) and flips."""
        size = self.size
        images = np.zeros((self.batch, size, size, 3), np.uint8)
        labels = np.full((self.batch, size, size), IGNORE_INDEX, np.uint8)
        for i in range(self.batch):
            rgb, label = samples[int(self.rng.integers(len(samples)))]
            rgb, label = _fit(rgb, label, size)
            h, w = label.shape
            top, left = self._corner(label) if self.balanced else (
                int(self.rng.integers(0, max(1, h - size + 1))), int(self.rng.integers(0, max(1, w - size + 1))))
            crop_rgb, crop_label = rgb[top:top + size, left:left + size], label[top:top + size, left:left + size]
            if self.rng.random() < 0.5:
                crop_rgb, crop_label = crop_rgb[:, ::-1], crop_label[:, ::-1]
            images[i, :crop_rgb.shape[0], :crop_rgb.shape[1]] = crop_rgb
            labels[i, :crop_label.shape[0], :crop_label.shape[1]] = crop_label
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
        return (x - self._mean) / self._std, torch.from_numpy(labels).long()

    def _corner(self, label: np.ndarray) -> tuple[int, int]:
        """Top-left corner of a crop centred on a painted pixel of one of ``label``'s classes, the
        class drawn uniformly (a class painted with one short stroke is seen as often as the road)."""
        h, w = label.shape
        classes = [c for c in np.unique(label) if c != IGNORE_INDEX]
        if not classes:
            return 0, 0
        ys, xs = np.nonzero(label == classes[int(self.rng.integers(len(classes)))])
        i = int(self.rng.integers(len(ys)))
        top = min(max(0, int(ys[i]) - self.size // 2), max(0, h - self.size))
        left = min(max(0, int(xs[i]) - self.size // 2), max(0, w - self.size))
        return top, left

    # --- using it --------------------------------------------------------------------------------
    @torch.inference_mode()
    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W) uint8 class indices for ``rgb``, seen at the scale training saw it (see :func:`_fit`)."""
        self.model.eval()
        h, w = rgb.shape[:2]
        x = self._input(rgb, min(1.0, 2 * self.size / max(h, w)))
        labels = upsampled_labels(self.model(x)[0], (h, w))  # the argmax of the upsampled logits
        self.model.train()
        return labels.to(torch.uint8).numpy()

    @torch.inference_mode()
    def uncertainty(self, rgb: np.ndarray) -> float:
        """The window's "label this next" score of ``rgb`` (:func:`~.uncertainty.image_score`), cheap:
        the image seen with its long side at the crop size, scored on the logit grid, not upsampled."""
        self.model.eval()
        logits = self.model(self._input(rgb, self.size / max(rgb.shape[:2])))[0]
        self.model.train()
        _, _, margin = uncertainty_maps(logits)
        return image_score(margin.numpy(), logits.argmax(0).to(torch.uint8).numpy())

    def _input(self, rgb: np.ndarray, scale: float) -> torch.Tensor:
        """(1, 3, h, w) normalised network input: ``rgb`` scaled by ``scale``, sides multiples of 32.

        A photo is shrunk as uint8 first: a float copy of a 24-megapixel image would take 300 MB."""
        h, w = rgb.shape[:2]
        ih, iw = (max(32, int(round(h * scale / 32)) * 32), max(32, int(round(w * scale / 32)) * 32))
        if ih * iw * 4 < h * w:
            import cv2

            rgb = cv2.resize(rgb, (iw, ih), interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).unsqueeze(0).float()
        return F.interpolate((x - self._mean) / self._std, size=(ih, iw), mode="bilinear", align_corners=False)

    def save(self, folder: str | Path) -> Path:
        """The model as an ordinary model folder (weights, config, history): usable everywhere."""
        folder = Path(folder)
        save_model(folder, self.model.eval(), self.info)
        self.model.train()
        write_history(folder, self.history, {"live": True, "steps": self.steps, "notes": self.notes})
        return folder


def _fit(rgb: np.ndarray, label: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Shrink an image whose long side is over twice the crop size, so crops see whole objects."""
    h, w = label.shape
    if max(h, w) <= 2 * size:
        return rgb, label
    import cv2

    scale = 2 * size / max(h, w)
    dsize = (max(1, int(w * scale)), max(1, int(h * scale)))
    return (cv2.resize(rgb, dsize, interpolation=cv2.INTER_AREA),
            cv2.resize(label, dsize, interpolation=cv2.INTER_NEAREST))
