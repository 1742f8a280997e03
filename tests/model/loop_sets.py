"""Small labelled sets the way users make them, one kind of class cue each (not a test module).

``make_set(root, kind, count, size, seed)`` writes ``root/images`` and ``root/labels`` (masks and
classes.txt) of ``count`` images with a background and three object classes, told apart by:

* ``colour``  — same texture and shapes, different hue;
* ``texture`` — same mean colour and shapes, different pattern (stripes, checks, dots);
* ``shape``   — same colour and texture, different outline (disc, square, triangle);
* ``scale``   — same colour and stripe pattern, different stripe period (fine, medium, coarse).

Every image has a noisy background of random tint and 2–4 objects of random size and place, with
colour jitter per object, so no single pixel value gives a class away. Used by the loop benchmark
(tests/benchmarks/loop_speed.py) and the learning test of the training loop.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

KINDS = ("colour", "texture", "shape", "scale")
CLASS_NAMES = ["background", "a", "b", "c"]
_HUES = {1: (200, 60, 60), 2: (60, 170, 70), 3: (70, 80, 210)}


def _pattern(cls: int, kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean texture in [-1, 1] of one object."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    if kind == "scale":
        period = {1: 3.0, 2: 7.0, 3: 14.0}[cls] * rng.uniform(0.85, 1.15)
        return np.sign(np.sin(2 * np.pi * u / period))
    if kind == "texture":
        v = -xx * np.sin(angle) + yy * np.cos(angle)
        if cls == 1:
            return np.sign(np.sin(2 * np.pi * u / 6.0))
        if cls == 2:
            return np.sign(np.sin(2 * np.pi * u / 8.0) * np.sin(2 * np.pi * v / 8.0))
        return np.where((np.mod(u, 6) < 2.5) & (np.mod(v, 6) < 2.5), 1.0, -0.4)
    return np.sign(np.sin(2 * np.pi * u / 6.0)) * 0.5  # colour / shape: one mild stripe texture


def _outline(cls: int, kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of one object; only the shape set ties the outline to the class."""
    mask = np.zeros((size, size), np.uint8)
    r = int(rng.integers(size // 9, size // 4))
    cx, cy = (int(v) for v in rng.integers(r // 2, size - r // 2, size=2))
    form = cls if kind == "shape" else int(rng.integers(0, 3))
    if form == 1 or form == 0 and kind != "shape":
        axes = (r, int(r * rng.uniform(0.6, 1.0)))
        cv2.ellipse(mask, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    elif form == 2:
        cv2.rectangle(mask, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
    else:
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def make_sample(kind: str, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One (size, size, 3) uint8 image and its label."""
    base = rng.uniform(80, 160) + rng.uniform(-20, 20, size=3)
    image = np.empty((size, size, 3), np.float32)
    image[:] = base
    image += rng.normal(0, 12, size=(size, size, 3))
    label = np.zeros((size, size), np.uint8)
    grey = np.array([140.0, 140.0, 140.0])
    for _ in range(int(rng.integers(2, 5))):
        cls = int(rng.integers(1, 4))
        m = _outline(cls, kind, size, rng)
        colour = np.array(_HUES[cls], np.float32) if kind == "colour" else grey
        colour = colour + rng.uniform(-20, 20, size=3)
        amp = rng.uniform(30, 45)
        tex = _pattern(cls, kind, size, size, rng)
        image[m] = colour + amp * tex[m][:, None] + rng.normal(0, 8, size=(int(m.sum()), 3))
        label[m] = cls
    return np.clip(image, 0, 255).astype(np.uint8), label


def make_set(root: Path, kind: str, count: int = 32, size: int = 160, seed: int = 0
             ) -> tuple[Path, Path]:
    """Write ``count`` images and masks; returns (image_dir, save_dir)."""
    from segstudio.core.masks import write_mask
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    image_dir, save_dir = Path(root) / "images", Path(root) / "labels"
    image_dir.mkdir(parents=True, exist_ok=True)
    save_dir.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image, label = make_sample(kind, size, rng)
        Image.fromarray(image).save(image_dir / f"img_{i:03d}.png")
        write_mask(save_dir / f"img_{i:03d}.png", label)
    (save_dir / "classes.txt").write_text("\n".join(CLASS_NAMES) + "\n", encoding="utf-8")
    return image_dir, save_dir


def load_set(image_dir: Path, save_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W, 3) uint8 images and (N, H, W) uint8 masks of a set written by :func:`make_set`."""
    from segstudio.core.masks import read_mask
    images, masks = [], []
    for path in sorted(Path(image_dir).glob("img_*.png")):
        images.append(np.asarray(Image.open(path).convert("RGB")))
        masks.append(read_mask(Path(save_dir) / path.name))
    return np.stack(images), np.stack(masks)
