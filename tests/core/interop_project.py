"""A tiny labelled project for the format tests: images with masks that exercise holes, nested
regions, one-pixel specks, regions on the image edge and the ignore label."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from segstudio.core.classes import ClassList, save_class_file
from segstudio.core.masks import write_mask

CLASSES = ["background", "cat", "dog", "road"]


def scene_masks() -> dict[str, np.ndarray]:
    """Label maps by image stem (values index CLASSES, 255 = ignore)."""
    a = np.zeros((40, 48), np.uint8)
    cv2.circle(a, (20, 20), 14, 1, -1)
    cv2.circle(a, (20, 20), 6, 0, -1)  # a hole in the cat
    cv2.circle(a, (20, 20), 2, 2, -1)  # a dog inside the hole
    a[0:5, 40:48] = 3  # road on the image corner
    a[30, 2] = 2  # a one-pixel dog
    a[36:40, 0:4] = 255  # ignored
    b = np.zeros((32, 64), np.uint8)
    cv2.fillPoly(b, [np.array([[5, 5], [60, 8], [40, 30], [10, 25]])], 3)
    cv2.rectangle(b, (20, 12), (30, 18), 1, -1)  # cat on the road
    cv2.rectangle(b, (23, 14), (26, 16), 0, -1)  # hole in the cat onto background
    c = np.zeros((24, 24), np.uint8)  # an image whose mask is all background
    return {"a": a, "b": b, "c": c}


def make_project(root: Path, jpeg: bool = True) -> tuple[Path, Path]:
    """(image_dir, save_dir) with images, masks and classes.txt written; returns the folders."""
    image_dir, save_dir = root / "images", root / "labels"
    image_dir.mkdir(parents=True)
    save_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for stem, label in scene_masks().items():
        height, width = label.shape
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        suffix = ".jpg" if jpeg and stem != "b" else ".png"
        Image.fromarray(pixels).save(image_dir / f"{stem}{suffix}")
        write_mask(save_dir / f"{stem}.png", label)
    save_class_file(save_dir / "classes.txt", ClassList(list(CLASSES)))
    return image_dir, save_dir


def checksums(*folders: Path) -> dict[str, str]:
    """sha256 of every file under ``folders`` (relative path -> digest)."""
    sums = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                sums[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums
