"""The training augmentation of augment.py as batched tensor operations (CPU or GPU, same code).

Per sample the recipe is unchanged — random resize (long side = ``scale_ref`` × ratio), random
crop or random placement on a padded canvas, horizontal flip, photometric jitter, ImageNet
normalisation, padding 0 / label 255 — but resize, crop, flip and pad are one affine resampling
(``grid_sample``) of the whole batch, and the jitter is arithmetic on the batch. Shrinking more
than 2× reads from a half- or quarter-size copy made once with area averaging (a mip level), so
fine textures are averaged as OpenCV's INTER_AREA does instead of aliasing.

Random parameters come from ``sample_rng(seed, epoch, index)`` exactly like the per-sample path,
so resuming sees the same samples. Labels are only ever sampled with nearest neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .augment import IGNORE_INDEX, IMAGENET_MEAN, IMAGENET_STD, AugmentConfig, fit_long_side


@dataclass
class SampleParams:
    """The random choices of one sample, in pixels of the resized (scaled) image."""

    width: int          # resized image size
    height: int
    left: int           # canvas x of the resized image's column 0 (negative = cropped)
    top: int
    flip: bool          # mirror the crop window (as augment.py flips the crop)
    crop_left: int      # resized-image x of the crop window's first column
    brightness: float   # additive, 0 = off
    contrast: float     # factor, 1 = off
    saturation: float   # factor, 1 = off
    hue: float          # degrees, 0 = off


def draw_params(width: int, height: int, cfg: AugmentConfig, rng: np.random.Generator) -> SampleParams:
    """The choices augment.train_transform makes, drawn in its order: the same ``rng`` gives the
    same geometry and jitter as the per-sample path."""
    ratio = rng.uniform(*cfg.scale_range)
    w, h = fit_long_side(width, height, cfg.reference * ratio)
    size = cfg.size
    top = -int(rng.integers(0, max(h - size, 0) + 1))
    left = -int(rng.integers(0, max(w - size, 0) + 1))
    flip = bool(cfg.flip and rng.random() < 0.5)
    p = cfg.photometric_p
    brightness = rng.uniform(-cfg.brightness, cfg.brightness) if rng.random() < p else 0.0
    contrast = rng.uniform(*cfg.contrast) if rng.random() < p else 1.0
    do_sat, do_hue = rng.random() < p, rng.random() < p
    saturation = rng.uniform(*cfg.saturation) if do_sat else 1.0
    hue = rng.uniform(-cfg.hue, cfg.hue) if do_hue else 0.0
    crop_left = -left
    crop_w, crop_h = min(w, size), min(h, size)
    if crop_w < size or crop_h < size:  # a small image is placed at a random spot of the canvas
        top_pad = int(rng.integers(0, size - crop_h + 1))
        left_pad = int(rng.integers(0, size - crop_w + 1))
        left, top = left + left_pad, top + top_pad
    return SampleParams(w, h, left, top, flip, crop_left, float(brightness), float(contrast), float(saturation),
                        float(hue))


def resample(source: torch.Tensor, dims: torch.Tensor, params: list[SampleParams], size: int,
             mode: str) -> torch.Tensor:
    """(B, C, size, size) canvases sampled from ``source`` (B, C, Hs, Ws) holding images of
    (height, width) = ``dims`` at its top-left, placed and flipped as ``params`` say.

    Output pixel centre x lies at u = x + 0.5 - left in resized-image pixels, i.e. at u · W / w
    in source pixels; flipped, u is mirrored inside the crop window [c, c + min(w, size)).
    """
    b, _, hs, ws = source.shape
    dev = source.device
    src_w, src_h = dims[:, 1].to(dev, torch.float32), dims[:, 0].to(dev, torch.float32)
    x = torch.arange(size, device=dev, dtype=torch.float32) + 0.5
    left = torch.tensor([float(p.left) for p in params], device=dev)
    top = torch.tensor([float(p.top) for p in params], device=dev)
    width = torch.tensor([float(p.width) for p in params], device=dev)
    flip = torch.tensor([p.flip for p in params], device=dev)
    mirror = torch.tensor([2.0 * p.crop_left + min(p.width, size) for p in params], device=dev)
    u = x[None, :] - left[:, None]                      # (B, size) in resized pixels
    u = torch.where(flip[:, None], mirror[:, None] - u, u)
    v = x[None, :] - top[:, None]
    gx = u * (src_w / width)[:, None] * (2.0 / ws) - 1.0
    heights = torch.tensor([float(p.height) for p in params], device=dev)
    gy = v * (src_h / heights)[:, None] * (2.0 / hs) - 1.0
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
    return F.grid_sample(source, grid, mode=mode, padding_mode="zeros", align_corners=False)


def inside_mask(params: list[SampleParams], size: int, device: torch.device) -> torch.Tensor:
    """(B, size, size) bool: the canvas pixels covered by the resized image (not padding)."""
    x = torch.arange(size, device=device)
    left = torch.tensor([p.left for p in params], device=device)[:, None]
    top = torch.tensor([p.top for p in params], device=device)[:, None]
    width = torch.tensor([p.width for p in params], device=device)[:, None]
    height = torch.tensor([p.height for p in params], device=device)[:, None]
    cols = (x[None] >= left) & (x[None] < left + width)
    rows = (x[None] >= top) & (x[None] < top + height)
    return rows[:, :, None] & cols[:, None, :]


def rgb_to_hsv(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> HSV with H in degrees [0, 360), S and V in [0, 1] (OpenCV's)."""
    r, g, b = rgb.unbind(1)
    v, _ = rgb.max(1)
    mn, _ = rgb.min(1)
    delta = v - mn
    s = torch.where(v > 0, delta / v.clamp_min(1e-12), torch.zeros_like(v))
    safe = delta.clamp_min(1e-12)
    h = torch.where(v == r, (g - b) / safe, torch.where(v == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    h = torch.where(delta > 0, torch.remainder(h * 60.0, 360.0), torch.zeros_like(h))
    return torch.stack([h, s, v], 1)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = hsv.unbind(1)
    k = torch.stack([(5.0 + h / 60.0), (3.0 + h / 60.0), (1.0 + h / 60.0)], 1) % 6.0
    f = v[:, None] - v[:, None] * s[:, None] * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)
    return f


def jitter(images: torch.Tensor, params: list[SampleParams]) -> torch.Tensor:
    """Brightness and contrast on RGB, then saturation and hue on HSV; images in [0, 1]."""
    dev = images.device
    shape = (-1, 1, 1, 1)
    bright = torch.tensor([p.brightness for p in params], device=dev).view(shape)
    contrast = torch.tensor([p.contrast for p in params], device=dev).view(shape)
    images = ((images + bright) * contrast).clamp_(0.0, 1.0)
    if all(p.saturation == 1.0 and p.hue == 0.0 for p in params):
        return images
    hsv = rgb_to_hsv(images)
    sat = torch.tensor([p.saturation for p in params], device=dev).view(-1, 1, 1)
    hue = torch.tensor([p.hue for p in params], device=dev).view(-1, 1, 1)
    hsv = torch.stack([torch.remainder(hsv[:, 0] + hue, 360.0), (hsv[:, 1] * sat).clamp(0.0, 1.0),
                       hsv[:, 2]], 1)
    return hsv_to_rgb(hsv)


def normalise_(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] RGB -> ImageNet-normalised, in place."""
    mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
    return images.sub_(mean).div_(std)


def augment_batch(sources: torch.Tensor, labels: torch.Tensor, dims: torch.Tensor,
                  params: list[SampleParams], size: int, photometric: bool = True
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """One training batch from ``sources`` (B, 3, Hs, Ws) uint8, ``labels`` (B, 1, Hs, Ws) uint8
    and their true (height, width) ``dims``: (B, 3, size, size) float32, (B, size, size) uint8."""
    x = resample(sources.float().div_(255.0), dims, params, size, "bilinear")
    if photometric:
        x = jitter(x, params)
    x = normalise_(x)
    y = resample(labels.float(), dims, params, size, "nearest").squeeze(1).round_().to(torch.uint8)
    inside = inside_mask(params, size, x.device)
    x = x * inside[:, None]
    y = torch.where(inside, y, torch.full_like(y, IGNORE_INDEX))
    return x, y
