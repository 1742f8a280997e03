"""The window's pixels of an image being loaded: a QImage over its RGB array and shrunk copies.

The session loads images on worker threads (``application.session.loading``) and hands each RGB
array to :func:`display_images` there, on the same worker: QImage (unlike QPixmap) may be built
in any thread, so the GUI thread only swaps the finished images in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PySide6.QtGui import QImage

MIN_LEVEL_SIDE = 512  # no shrunk copy smaller than this


@dataclass(frozen=True)
class Display:
    """A QImage sharing memory with the loaded array, and copies shrunk by 2, 4, 8... for drawing
    when zoomed out (``arrays`` keeps their buffers alive as long as the images)."""

    qimage: QImage
    pyramid: list[QImage] = field(default_factory=list)
    arrays: list[np.ndarray] = field(default_factory=list)


def rgb_qimage(rgb: np.ndarray) -> QImage:
    """A QImage sharing memory with a contiguous (H, W, 3) array (keep the array alive)."""
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888)


def build_pyramid(rgb: np.ndarray) -> list[tuple[np.ndarray, QImage]]:
    """Copies shrunk by 2, 4, 8... (area averaging) for smooth, cheap drawing when zoomed out."""
    levels = []
    current = rgb
    while min(current.shape[:2]) // 2 >= MIN_LEVEL_SIDE:
        height, width = current.shape[:2]
        current = np.ascontiguousarray(cv2.resize(current, (width // 2, height // 2), interpolation=cv2.INTER_AREA))
        levels.append((current, rgb_qimage(current)))
    return levels


def display_images(rgb: np.ndarray) -> Display:
    """The window's images of ``rgb`` (any thread): the session's ``decorate`` hook."""
    levels = build_pyramid(rgb)
    return Display(rgb_qimage(rgb), [image for _, image in levels], [array for array, _ in levels])
