"""The Pascal VOC colour map, used for palette PNG masks and for class colours.

Index 0 is black (background), 255 is the VOC "void" colour (224, 224, 192) used for the ignore
label. Masks written with this palette open in any VOC tool with the usual colours.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

IGNORE_INDEX = 255


@lru_cache(maxsize=1)
def _voc_colormap() -> np.ndarray:
    cmap = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        cmap[index] = (r, g, b)
    cmap.flags.writeable = False
    return cmap


def voc_palette() -> np.ndarray:
    """The 256×3 uint8 VOC colour map (a read-only array; copy it to change colours)."""
    return _voc_colormap()


def class_colour(index: int) -> tuple[int, int, int]:
    """Default RGB colour of class ``index`` (0..255)."""
    r, g, b = _voc_colormap()[index]
    return int(r), int(g), int(b)


def palette_bytes(colours: np.ndarray | None = None) -> list[int]:
    """A flat 768-entry list for ``PIL.Image.putpalette``; VOC colours where ``colours`` is None.

    ``colours`` may give fewer than 256 rows: the rest keep their VOC colour.
    """
    full = _voc_colormap().copy()
    if colours is not None:
        colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 3)
        full[: len(colours)] = colours
    return full.reshape(-1).tolist()


def colour_codes(rgb: np.ndarray) -> np.ndarray:
    """(H, W) int32 codes 0xRRGGBB of an (..., 3) colour array (one number per colour)."""
    rgb = np.asarray(rgb)
    return (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
