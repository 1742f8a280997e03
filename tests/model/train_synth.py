"""Synthetic segmentation projects for training tests and benchmarks (not a test module).

Coloured, textured shapes on noisy backgrounds: class 1 = striped red discs, class 2 = checkered
green squares, class 3 = dotted blue triangles. Colours jitter per shape and the background is a
random smooth colour with noise, so a model must use colour and texture, not one pixel value.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CLASS_NAMES = ["background", "disc", "square", "triangle"]
BASE_COLOURS = {1: (210, 40, 40), 2: (40, 190, 50), 3: (50, 60, 220)}


def _texture(kind: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    if kind == 1:
        pattern = ((xx + yy) // 3) % 2
    elif kind == 2:
        pattern = ((xx // 4) + (yy // 4)) % 2
    else:
        pattern = ((xx % 5 < 2) & (yy % 5 < 2)).astype(int)
    return pattern.astype(np.float32) * rng.uniform(25, 45)


def make_sample(size: int, rng: np.random.Generator, ignore_border: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """One (H, W, 3) uint8 image and its (H, W) uint8 label."""
    base = rng.uniform(70, 170) + rng.uniform(-15, 15, size=3)  # greyish, slightly tinted
    image = np.empty((size, size, 3), np.float32)
    image[:] = base
    image += rng.normal(0, 15, size=(size, size, 3))
    label = np.zeros((size, size), np.uint8)
    for kind in rng.permutation([1, 2, 3])[: int(rng.integers(2, 4))].tolist():
        shape = np.zeros((size, size), np.uint8)
        r = int(rng.integers(size // 6, size // 3))
        cx, cy = (int(v) for v in rng.integers(r, size - r, size=2))
        if kind == 1:
            cv2.circle(shape, (cx, cy), r, 1, -1)
        elif kind == 2:
            cv2.rectangle(shape, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
        else:
            pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
            cv2.fillPoly(shape, [pts], 1)
        m = shape.astype(bool)
        colour = np.array(BASE_COLOURS[kind], np.float32) + rng.uniform(-15, 15, size=3)
        tex = _texture(kind, size, size, rng)
        image[m] = colour + tex[m][:, None] + rng.normal(0, 8, size=(int(m.sum()), 3))
        label[m] = kind
        if ignore_border:
            ring = cv2.dilate(shape, np.ones((3, 3), np.uint8)) - cv2.erode(shape, np.ones((3, 3), np.uint8))
            label[ring.astype(bool)] = 255
    return np.clip(image, 0, 255).astype(np.uint8), label


def make_project(root: Path, count: int = 24, size: int = 64, seed: int = 0, ignore_border: bool = False,
                 image_ext: str = ".png") -> tuple[Path, Path]:
    """Write ``count`` images into root/images and masks + classes.txt into root/labels.

    Returns (image_dir, save_dir).
    """
    from segstudio.core.masks import write_mask
    rng = np.random.default_rng(seed)
    image_dir, save_dir = root / "images", root / "labels"
    image_dir.mkdir(parents=True, exist_ok=True)
    save_dir.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image, label = make_sample(size, rng, ignore_border)
        Image.fromarray(image).save(image_dir / f"img_{i:03d}{image_ext}")
        write_mask(save_dir / f"img_{i:03d}.png", label)
    (save_dir / "classes.txt").write_text("\n".join(CLASS_NAMES) + "\n", encoding="utf-8")
    return image_dir, save_dir


def tiny_config():
    """A SegFormer small enough to learn the synthetic set on a CPU in seconds."""
    from segstudio.model.segformer import SegFormerConfig
    return SegFormerConfig(hidden_sizes=(24, 48, 64, 96), depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4),
                           sr_ratios=(4, 2, 1, 1), decoder_hidden_size=96, num_labels=len(CLASS_NAMES),
                           drop_path_rate=0.0, classifier_dropout=0.0)
