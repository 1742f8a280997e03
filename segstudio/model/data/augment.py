"""Training and validation transforms on numpy images (OpenCV), SegFormer's recipe.

Train: random resize 0.5–2.0 of the reference size (long side ≈ reference × ratio, aspect kept;
the reference is the crop size unless the recipe chose the images' own size), random
crop to size × size with padding, horizontal flip, HSV photometric jitter, ImageNet normalisation.
Validation: resize so the long side fits the training size, pad to a multiple of 32.

Images are padded with the ImageNet mean colour, so padding becomes exactly 0 after
normalisation (mmseg pads with 0 after normalising: the same thing); labels are padded with 255 so
padding never counts. Labels are only ever resized with nearest neighbour: interpolating class
indices would invent classes on boundaries. All randomness comes from the ``rng`` argument, so the
caller controls reproducibility.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from segstudio.core.palette import IGNORE_INDEX  # the one ignore label (data modules import it from here)

# The input normalisation every SegFormer checkpoint was trained with (ModelInfo's default too).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class AugmentConfig:
    """Knobs of the training augmentation; defaults follow SegFormer's ADE20K pipeline."""

    size: int = 512
    scale_range: tuple[float, float] = (0.5, 2.0)
    flip: bool = True
    brightness: float = 32.0 / 255.0   # additive, fraction of the range
    contrast: tuple[float, float] = (0.5, 1.5)
    saturation: tuple[float, float] = (0.5, 1.5)
    hue: float = 18.0                    # degrees
    photometric_p: float = 0.5           # probability of each jitter
    scale_ref: int | None = None         # long side at ratio 1 (None = size); see training/recipe.py

    @property
    def reference(self) -> int:
        """The long side an image is resized to at ratio 1 (the model's working size)."""
        return self.scale_ref or self.size


def resize_pair(image: np.ndarray, label: np.ndarray | None, width: int, height: int
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """Image resized bilinearly (area when shrinking), label with nearest neighbour."""
    if image.shape[1] == width and image.shape[0] == height:
        return image, label
    shrink = width * height < image.shape[0] * image.shape[1]
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    if label is not None:
        label = cv2.resize(label, (width, height), interpolation=cv2.INTER_NEAREST)
    return image, label


def fit_long_side(width: int, height: int, long_side: float) -> tuple[int, int]:
    """(w, h) scaled so the longer side is ``long_side``, aspect kept, at least 1 pixel each."""
    scale = long_side / max(width, height)
    return max(1, int(round(width * scale))), max(1, int(round(height * scale)))


def random_crop(image: np.ndarray, label: np.ndarray, size: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """A window of at most size × size at a random place (smaller images are kept whole)."""
    top = int(rng.integers(0, max(image.shape[0] - size, 0) + 1))
    left = int(rng.integers(0, max(image.shape[1] - size, 0) + 1))
    return image[top:top + size, left:left + size], label[top:top + size, left:left + size]


def pad_normalized(image: np.ndarray, label: np.ndarray, size: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Place a (3, h, w) normalised crop at a random spot of a size × size canvas.

    The canvas is 0 (the mean colour after normalisation), the label canvas 255 (ignored).
    """
    height, width = label.shape
    if height == size and width == size:
        return image, label
    top = int(rng.integers(0, size - height + 1))
    left = int(rng.integers(0, size - width + 1))
    canvas = np.zeros((3, size, size), dtype=np.float32)
    canvas[:, top:top + height, left:left + width] = image
    label_canvas = np.full((size, size), IGNORE_INDEX, dtype=np.uint8)
    label_canvas[top:top + height, left:left + width] = label
    return canvas, label_canvas


def photometric_jitter(image: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, saturation and hue jitter, each applied with probability p.

    Brightness and contrast act on RGB; saturation and hue on HSV (OpenCV float HSV: H in degrees).
    """
    img = image.astype(np.float32) / 255.0
    if rng.random() < cfg.photometric_p:
        img = img + rng.uniform(-cfg.brightness, cfg.brightness)
    if rng.random() < cfg.photometric_p:
        img = img * rng.uniform(*cfg.contrast)
    img = np.clip(img, 0.0, 1.0)
    do_sat = rng.random() < cfg.photometric_p
    do_hue = rng.random() < cfg.photometric_p
    if do_sat or do_hue:
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        if do_sat:
            hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(*cfg.saturation), 0.0, 1.0)
        if do_hue:
            hsv[..., 0] = np.mod(hsv[..., 0] + rng.uniform(-cfg.hue, cfg.hue), 360.0)
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def normalize(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (3, H, W) float32 ImageNet-normalised."""
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32) * 255.0
    inv_std = 1.0 / (np.asarray(IMAGENET_STD, dtype=np.float32) * 255.0)
    out = (image.astype(np.float32) - mean) * inv_std
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def train_transform(image: np.ndarray, label: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One augmented training sample: (3, size, size) float32 and (size, size) uint8.

    Order as in mmseg: resize, crop, flip, photometric jitter, normalise, pad (so the jitter never
    tints the padding and padding is exactly 0).
    """
    ratio = rng.uniform(*cfg.scale_range)
    width, height = fit_long_side(image.shape[1], image.shape[0], cfg.reference * ratio)
    image, label = resize_pair(image, label, width, height)
    image, label = random_crop(image, label, cfg.size, rng)
    if cfg.flip and rng.random() < 0.5:
        image, label = image[:, ::-1], label[:, ::-1]
    image = photometric_jitter(np.ascontiguousarray(image), cfg, rng)
    return pad_normalized(normalize(image), np.ascontiguousarray(label), cfg.size, rng)


def val_transform(image: np.ndarray, label: np.ndarray | None, size: int, divisor: int = 32
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Long side resized to ``size`` (aspect kept), padded bottom/right to a multiple of ``divisor``.

    Returns (3, H', W') float32 (padding 0) and (H', W') uint8 (padding 255) or None.
    """
    width, height = fit_long_side(image.shape[1], image.shape[0], size)
    image, label = resize_pair(image, label, width, height)
    pad_h = -(-height // divisor) * divisor
    pad_w = -(-width // divisor) * divisor
    canvas = np.zeros((3, pad_h, pad_w), dtype=np.float32)
    canvas[:, :height, :width] = normalize(image)
    if label is None:
        return canvas, None
    label_canvas = np.full((pad_h, pad_w), IGNORE_INDEX, dtype=np.uint8)
    label_canvas[:height, :width] = label
    return canvas, label_canvas
