"""Run a SegFormer on RGB images of any size and return full-size label maps (and probabilities).

Two modes:

* ``whole`` (default): the image is resized (bilinear, antialiased when shrinking) so its long
  side is ``info.image_size`` (the training crop size), each side rounded to a multiple of 32 --
  the "AlignedResize" of the original evaluation, worth +0.5-1 mIoU over odd sizes -- and run in
  one pass. Cost is fixed whatever the photo size; objects are seen at roughly the scale the
  training crops showed them for typical photos.
* ``slide``: the image is processed at its native resolution in tiles of ``tile`` pixels
  (default ``info.image_size``) overlapping by 1/3, and the logits are averaged. Use it for large
  images with small details. Tiles sit on a 32-pixel grid of the zero-padded image (zero is the
  mean colour after normalisation), so their 1/4-resolution logits add up on one 1/4 grid
  without resampling and memory stays at K x H/4 x W/4.

Logits are upsampled bilinearly (``align_corners=False``, the same sampling as
``F.interpolate``) to the original size in bands of rows, so a 6000 x 4000 photo never needs the
full K x H x W float tensor unless probabilities are asked for. When only the labels are asked for,
only the pixels on the edges between predicted regions are upsampled (:mod:`.upsampled_labels`),
with the same labels.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from segstudio.core.errors import CheckpointError
from segstudio.model.weights.checkpoints import ModelInfo

from .device import autocast_in, inference_dtype, pick_device
from .segformer import SegFormer
from .uncertainty import image_score
from .upsampled_labels import source_index, upsampled_labels

_BAND_BYTES = 64 << 20  # float32 working memory per band of upsampled logits


@dataclass
class Prediction:
    """Full-size results for one image."""

    labels: np.ndarray                  # (H, W) uint8 class indices
    probs: np.ndarray | None = None     # (K, H, W) float32 softmax, when asked for
    confidence: np.ndarray | None = None  # (H, W) float32 top-1 probability (with uncertainty)
    entropy: np.ndarray | None = None   # (H, W) float32 entropy / log(K), in [0, 1]
    margin: np.ndarray | None = None    # (H, W) float32 top-1 minus top-2 probability

    @property
    def score(self) -> float:
        """In [0, 1], higher = the model is less sure = label this image next (see uncertainty.py)."""
        if self.margin is None:
            raise ValueError("predict(..., uncertainty=True) computes the margin map")
        return image_score(self.margin, self.labels)


def uncertainty_maps(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(confidence, normalised entropy, margin) maps of ``logits`` (K, ...), softmax over dim 0.
    Confidence is the top probability, margin the top minus the second (0 where two
    classes tie), entropy ``-sum p log p / log K``.

    Written with the reductions over a leading dimension that are fast on a CPU (``amax``,
    ``sum``: 3-4 ms for 12 x 1920 x 1440 on 2 threads) instead of ``softmax``, ``topk`` and
    ``argmax`` over it (52, 157 and 215 ms): with the max logit ``m``, ``e = exp(l - m)`` and
    ``S = sum e`` (the probabilities are ``e / S``), the confidence is ``1 / S``, the margin
    ``(1 - exp(second - m)) / S`` and the entropy ``log S - sum(e (l - m)) / S``.
    """
    k = logits.shape[0]
    shifted = logits - logits.amax(0)
    e = shifted.exp()
    confidence = e.sum(0).reciprocal_()
    if k == 1:
        return confidence, torch.zeros_like(confidence), torch.ones_like(confidence)
    is_top = shifted == 0
    count = torch.uint8 if k < 256 else torch.int32  # a bool sum would convert to int64 first: 40x slower
    ties = is_top.to(count).sum(0, dtype=count) > 1  # two top classes: no margin
    entropy = e.mul_(shifted).sum(0).mul_(confidence).neg_().sub_(confidence.log()) / math.log(k)
    second = torch.where(ties, 0.0, shifted.masked_fill_(is_top, float("-inf")).amax(0))
    margin = (1 - second.exp()) * confidence
    return confidence, entropy, margin


class Predictor:
    """Inference wrapper: eval mode, ``torch.inference_mode``, reduced precision where the hardware
    has it (``amp``, :func:`~.device.inference_dtype`): autocast on CUDA and MPS, a bf16 copy of
    the model on a CPU with native bf16; float32 elsewhere or with ``amp=False``."""

    def __init__(self, model: SegFormer, info: ModelInfo, device: str | None = None,
                 mode: str = "whole", tile: int | None = None, amp: bool = True,
                 batch_size: int = 4, scale: str | int | tuple[int, int] | None = None,
                 stride: int | None = None) -> None:
        """``scale`` (whole mode): None resizes the long side to the model's ``image_size``; an int
        N to N; ``"native"`` keeps the image's own size; a pair (long, short) is a checkpoint's
        evaluation recipe (mmseg's ``img_scale``: the largest size within both). ``stride`` (slide
        mode): pixels between tiles (default two thirds of the tile)."""
        if mode not in ("whole", "slide"):
            raise ValueError(f"mode must be 'whole' or 'slide', not {mode!r}")
        self.device = pick_device(device or "auto")
        self.model = model.to(self.device).eval()
        self.info = info
        self.mode = mode
        self.tile = _round32(tile or info.image_size)
        self.batch_size = max(1, int(batch_size))
        self.scale = scale
        self.stride = stride
        self.amp_dtype = inference_dtype(self.device) if amp else None
        # on a CPU the reduced precision is a bf16 copy of the weights run through oneDNN's bf16
        # kernels (CPU autocast would take the plain ops); made here, so later changes to
        # ``model`` are not seen: a predictor belongs to one loaded model
        self._network = self.model
        if self.amp_dtype is not None and self.device.type == "cpu":
            self._network = copy.deepcopy(self.model).to(self.amp_dtype).eval()
        self._mean = torch.tensor(info.mean, device=self.device).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(info.std, device=self.device).view(1, 3, 1, 1) * 255.0

    # ------------------------------------------------------------------------------ public API

    def predict(self, image: np.ndarray, return_probs: bool = False,
                uncertainty: bool = False) -> Prediction:
        """Labels (and optionally probabilities / uncertainty maps) for one (H, W, 3) uint8 image."""
        return self.predict_batch([image], return_probs, uncertainty)[0]

    @torch.inference_mode()
    def predict_batch(self, images: Sequence[np.ndarray], return_probs: bool = False,
                      uncertainty: bool = False) -> list[Prediction]:
        """Like :meth:`predict` for several images; same-sized images share forward passes."""
        results: list[Prediction | None] = [None] * len(images)
        if self.mode == "slide":
            for i, img in enumerate(images):
                logits = self._slide_logits(self._to_tensor(img))
                results[i] = self._finish(logits, img.shape[:2], return_probs, uncertainty)
            return results  # type: ignore[return-value]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(images):
            groups.setdefault(tuple(img.shape[:2]), []).append(i)
        for shape, idx in groups.items():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start:start + self.batch_size]
                batch = torch.cat([self._to_tensor(images[i]) for i in chunk])
                logits = self._run(_resize(batch, self.input_size(shape)))
                for j, i in enumerate(chunk):
                    results[i] = self._finish(logits[j], shape, return_probs, uncertainty)
        return results  # type: ignore[return-value]

    def input_size(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The network input (height, width) for an image of ``shape`` in whole mode."""
        if self.scale is None:
            return whole_size(shape, self.info.image_size)
        if self.scale == "native":
            return _round32(shape[0]), _round32(shape[1])
        if isinstance(self.scale, int):
            return whole_size(shape, self.scale)
        return recipe_size(shape, tuple(self.scale))

    # ------------------------------------------------------------------------------- internals

    def _to_tensor(self, image: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 RGB -> normalised (1, 3, H, W) float on the device."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(image)).to(self.device)
        x = x.permute(2, 0, 1).unsqueeze(0).float()
        return (x - self._mean) / self._std

    def _run(self, batch: torch.Tensor) -> torch.Tensor:
        """Model logits in float32 (B, K, h/4, w/4); CheckpointError naming the model when they are
        not finite (weights checked at load can still overflow): labels from NaN are all class 0."""
        if self._network is not self.model:
            logits = self._network(batch.to(self.amp_dtype)).float()
        else:
            with autocast_in(self.device, self.amp_dtype):
                logits = self.model(batch).float()
        if not torch.isfinite(logits).all():
            raise CheckpointError(f"model {self.info.source or '(in memory)'} computes scores that are not "
                                  "finite numbers (NaN or infinity): its predictions would mean nothing")
        return logits

    def _slide_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Average of overlapping tile logits on the 1/4 grid of the 32-padded image (K, Hp/4, Wp/4)."""
        _, _, h, w = x.shape
        tile = self.tile
        hp, wp = max(_round32(h), tile), max(_round32(w), tile)
        x = F.pad(x, (0, wp - w, 0, hp - h))
        stride = self.stride or max(32, _round32(tile * 2 // 3, up=False))
        tops, lefts = _starts(hp, tile, stride), _starts(wp, tile, stride)
        boxes = [(t, l) for t in tops for l in lefts]
        acc = count = None
        q = tile // 4
        for start in range(0, len(boxes), self.batch_size):
            chunk = boxes[start:start + self.batch_size]
            out = self._run(torch.cat([x[:, :, t:t + tile, l:l + tile] for t, l in chunk]))
            if acc is None:
                acc = out.new_zeros((out.shape[1], hp // 4, wp // 4))
                count = out.new_zeros((1, hp // 4, wp // 4))
            for (t, l), logits in zip(chunk, out):
                acc[:, t // 4:t // 4 + q, l // 4:l // 4 + q] += logits
                count[:, t // 4:t // 4 + q, l // 4:l // 4 + q] += 1
        return acc / count

    def _finish(self, logits: torch.Tensor, shape: tuple[int, int], return_probs: bool,
                uncertainty: bool) -> Prediction:
        """Labels (only the edge pixels upsampled, :mod:`.upsampled_labels`), then the probabilities
        and uncertainty maps when asked for, from (K, h, w) logits upsampled band by band."""
        h, w = shape
        k = logits.shape[0]
        # in slide mode the logit grid covers the padded image: sample as if upsampling to it
        full = (logits.shape[1] * 4, logits.shape[2] * 4) if self.mode == "slide" else shape
        labels = upsampled_labels(logits, shape, full).to(torch.uint8).cpu().numpy()
        if not (return_probs or uncertainty):
            return Prediction(labels)
        probs = np.empty((k, h, w), np.float32) if return_probs else None
        maps = [np.empty((h, w), np.float32) for _ in range(3)] if uncertainty else None
        for top, band in _upsample_bands(logits.contiguous(), shape, full):  # class-major bands
            rows = slice(top, top + band.shape[1])
            if probs is not None:
                probs[:, rows] = band.softmax(0).cpu().numpy()
            if maps is not None:
                for dst, m in zip(maps, uncertainty_maps(band)):
                    dst[rows] = m.cpu().numpy()
        conf, ent, mar = maps if maps is not None else (None, None, None)
        return Prediction(labels, probs, conf, ent, mar)


# ------------------------------------------------------------------------------------- helpers


def whole_size(shape: tuple[int, int], image_size: int) -> tuple[int, int]:
    """Network input size for whole-image mode: long side = image_size, sides multiples of 32."""
    h, w = shape
    scale = image_size / max(h, w)
    return _round32(round(h * scale), up=False), _round32(round(w * scale), up=False)


def recipe_size(shape: tuple[int, int], scale: tuple[int, int]) -> tuple[int, int]:
    """mmseg's keep-ratio resize to ``scale`` (long, short limits), then sides rounded up to 32 (its
    ``AlignedResize``): how the SegFormer authors evaluated their ADE20K checkpoints."""
    h, w = shape
    factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    return _round32(int(h * factor + 0.5)), _round32(int(w * factor + 0.5))


def _round32(n: int, up: bool = True) -> int:
    return (n + 31) // 32 * 32 if up else max(32, round(n / 32) * 32)


def _starts(length: int, tile: int, stride: int) -> list[int]:
    """Tile origins (multiples of 32 when length, tile and stride are) covering [0, length)."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def _upsample_bands(logits: torch.Tensor, shape: tuple[int, int], full: tuple[int, int]
                    ) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield (first row, (K, rows, W) band) of ``logits`` bilinearly upsampled to ``full``,
    restricted to the top-left ``shape``."""
    k, hin, win = logits.shape
    h, w = shape
    r0, r1, rf = source_index(h, hin, full[0], logits.device)
    c0, c1, cf = source_index(w, win, full[1], logits.device)
    rows_per_band = max(1, _BAND_BYTES // max(1, 4 * k * w))
    cf = cf.view(1, 1, -1)
    for top in range(0, h, rows_per_band):
        sl = slice(top, min(h, top + rows_per_band))
        # the columns first, on the few source rows this band reads (about a quarter of its rows):
        # picking columns is a gather along the last axis, far slower than picking whole rows
        first, last = int(r0[sl][0]), int(r1[sl][-1]) + 1
        source = logits[:, first:last]
        wide = torch.lerp(source[:, :, c0], source[:, :, c1], cf)
        band = torch.lerp(wide[:, r0[sl] - first], wide[:, r1[sl] - first], rf[sl].view(1, -1, 1))
        yield top, band
