"""Small labelling projects for the GUI tests (a module of its own: test files import it by name,
which they cannot do with conftest under --import-mode=importlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from segstudio.core.classes import ClassList, save_class_file

CLASSES = ["background", "cat", "dog", "tree"]
SIZE = (80, 60)  # width, height


def make_project(folder: Path, count: int = 3, size=SIZE, classes=CLASSES) -> Path:
    """``count`` small RGB images with a gradient (so colour fills have something to stop at)."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    for i in range(count):
        x = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
        image = np.broadcast_to(x, (height, width, 3)).copy()
        image[..., 1] = (i * 60) % 256
        Image.fromarray(image).save(folder / f"img{i + 1}.jpg", quality=95)
    save_class_file(folder / "classes.txt", ClassList(list(classes)))
    return folder
