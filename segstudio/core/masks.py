"""Palette PNG masks (Pascal VOC SegmentationClass style).

A mask is an (H, W) uint8 label map: value = class index, 0 = background, 255 = ignore. On disk it is
an 8-bit palette ("P") PNG with the VOC colour map (or the user's colours), so every VOC tool shows
it in colour. Reading also accepts plain grayscale index PNGs and RGB colour masks painted with the
palette. Problems are reported with the file name and the offending values, never silently fixed.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .atomic import atomic_write_bytes
from .errors import ClassFileError, ImageLoadError, MaskError, SaveError
from .images import mask_file_problem, open_checked
from .palette import IGNORE_INDEX, colour_codes, palette_bytes, voc_palette
from .safe_read import check_regular_file

# zlib level 1 writes a 4000×3000 mask several times faster than the default 6 and masks, being
# mostly flat regions, compress almost as well.
PNG_COMPRESS_LEVEL = 1


def encode_mask_png(label: np.ndarray, colours: np.ndarray | None = None) -> bytes:
    """Encode a label map as palette PNG bytes."""
    label = np.ascontiguousarray(label, dtype=np.uint8)
    if label.ndim != 2:
        raise MaskError(f"a mask must be 2-D, got shape {label.shape}")
    height, width = label.shape
    image = Image.frombytes("P", (width, height), label.tobytes())
    image.putpalette(palette_bytes(colours))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def write_mask(path: str | os.PathLike, label: np.ndarray, colours: np.ndarray | None = None) -> None:
    """Save ``label`` as a palette PNG at ``path``, atomically, but never over a file that is not a
    mask of its size (see :func:`check_replaceable`): a photo named like a mask stays a photo."""
    data = encode_mask_png(label, colours)
    check_replaceable(path, np.shape(label))
    atomic_write_bytes(path, data)


def check_replaceable(path: str | os.PathLike, shape: tuple[int, ...]) -> None:
    """Raise :class:`SaveError` unless a mask of ``shape`` (H, W) may be written at ``path``.

    Nothing there (a first save) is fine. A file there may be replaced only if it is a mask of
    the same size: one that looks like one (``core.images.mask_file_problem``, header only), or,
    for the other formats :func:`read_mask` accepts (VOC-coloured RGB, 16-bit index), one that
    reads as a mask. Anything else (a photo, a grayscale picture of another size, a folder, a
    pipe) is the user's and stays untouched.
    """
    path = Path(path)
    if not os.path.lexists(path):
        return
    height, width = shape[:2]
    problem = mask_file_problem(path, (width, height))
    if problem is None or _reads_as_mask(path, (width, height)):
        return
    raise SaveError(
        f"{path} is {problem}: segstudio does not write a mask over it; "
        "move that file away or choose another save folder"
    )


def _reads_as_mask(path: Path, size: tuple[int, int]) -> bool:
    """True for a colour or 16-bit mask of ``size`` (decoded in full: such files are rare)."""
    if not path.is_file():  # a pipe or a device would block or never end
        return False
    try:
        with Image.open(path) as image:  # header: the size is the label's, already in memory
            if image.format != "PNG" or image.size != size or image.mode not in _OTHER_MASK_MODES:
                return False
        read_mask(path)
    except (MaskError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


_OTHER_MASK_MODES = ("RGB", "RGBA", "I", "I;16", "I;16B", "I;16L")


def rgb_to_index(rgb: np.ndarray, palette: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
    """Map an RGB colour mask to indices through ``palette`` (default: VOC); returns the indices
    (0 where the colour is unknown) and the sorted unknown colour codes."""
    palette = (voc_palette() if palette is None else np.asarray(palette)).astype(np.int32)
    codes = colour_codes(rgb)
    table: dict[int, int] = {}
    for i, code in enumerate(colour_codes(palette).tolist()):
        table.setdefault(int(code), i)
    uniques, inverse = np.unique(codes, return_inverse=True)
    unknown = [u for u in uniques.tolist() if u not in table]
    lut = np.array([table.get(u, 0) for u in uniques.tolist()], dtype=np.uint8)
    return lut[inverse].reshape(codes.shape), unknown


def _rgb_to_index(rgb: np.ndarray, path: Path) -> np.ndarray:
    """Map an RGB colour mask back to indices through the VOC palette."""
    label, unknown = rgb_to_index(rgb)
    if unknown:
        shown = ", ".join(f"#{u:06x}" for u in unknown[:5])
        raise MaskError(f"{path}: colours that are not in the class palette: {shown}")
    return label


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a mask file as an (H, W) uint8 label map (no class check: see :func:`check_mask`)."""
    path = Path(path)
    check_regular_file(path, MaskError, "mask")  # a pipe would block Pillow's open, a device never end
    try:
        opened = open_checked(path, str(path))  # the one bomb guard: the size is checked before decoding
    except ImageLoadError as exc:
        raise MaskError(f"cannot read mask {path}: {exc}") from exc
    try:
        with opened as image:
            image.load()
            mode = image.mode
            if mode in ("P", "L"):
                return np.asarray(image, dtype=np.uint8).copy()
            if mode in ("I", "I;16", "I;16B", "I;16L"):
                data = np.asarray(image)
                if data.min() < 0 or data.max() > 255:
                    raise MaskError(f"{path}: index values outside 0..255 ({data.min()}..{data.max()})")
                return data.astype(np.uint8)
            if mode in ("RGB", "RGBA"):
                return _rgb_to_index(np.asarray(image.convert("RGB")), path)
            raise MaskError(f"{path}: unsupported mask image mode {mode}")
    except MaskError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise MaskError(f"cannot read mask {path}: {exc}") from exc


def check_mask(
    label: np.ndarray,
    image_size: tuple[int, int] | None = None,
    num_classes: int | None = None,
    path: str | os.PathLike | None = None,
) -> None:
    """Raise :class:`MaskError` if ``label`` does not fit its image or its class list.

    ``image_size`` is (width, height). Valid values are 0..num_classes-1 and 255 (ignore).
    """
    where = f"{path}: " if path is not None else ""
    if image_size is not None:
        width, height = image_size
        if label.shape != (height, width):
            raise MaskError(
                f"{where}mask is {label.shape[1]}×{label.shape[0]} but its image is {width}×{height}"
            )
    if num_classes is not None:
        bad = unknown_values(label, num_classes)
        if bad:
            shown = ", ".join(str(v) for v in bad[:10])
            raise MaskError(f"{where}values that are not classes (only {num_classes} defined): {shown}")


# calcHist counts in float32, exact up to 2**24: count bands of at most that many pixels.
_EXACT_PIXELS = 1 << 24


def label_counts(label: np.ndarray) -> np.ndarray:
    """Pixels per label value, (256,) int64, of a uint8 map.

    OpenCV's histogram is several times faster than ``np.bincount`` on big maps (which first
    widens every pixel to int64) and releases the GIL, so the window can count in a worker.
    """
    label = np.asarray(label, dtype=np.uint8)
    if label.ndim != 2:
        label = label.reshape(1, -1)
    height, width = label.shape
    rows = max(1, _EXACT_PIXELS // max(width, 1))
    counts = np.zeros(256, dtype=np.int64)
    for top in range(0, height, rows):
        band = np.ascontiguousarray(label[top : top + rows])
        if band.size:
            counts += cv2.calcHist([band], [0], None, [256], [0, 256]).reshape(256).astype(np.int64)
    return counts


def unknown_values(label: np.ndarray, num_classes: int) -> list[int]:
    """Sorted label values that are neither a class index nor the ignore label."""
    counts = label_counts(label)
    return [v for v in np.flatnonzero(counts).tolist() if v >= num_classes and v != IGNORE_INDEX]


def check_class_file_covers(label: np.ndarray, class_file: str | os.PathLike, num_classes: int,
                            mask_path: str | os.PathLike) -> None:
    """:class:`ClassFileError` when ``label`` holds values (255 aside) that the class file, which
    names ``num_classes`` classes, does not: scores computed with it would leave those pixels out
    without a word, so the whole evaluation is refused rather than one mask skipped."""
    bad = unknown_values(label, num_classes)
    if bad:
        shown = ", ".join(str(v) for v in bad[:10])
        raise ClassFileError(f"{mask_path} holds class value(s) {shown}, but the class file {class_file} "
                             f"names only {num_classes} classes (0 to {num_classes - 1}): give the class "
                             "file these masks were written with")


def load_mask(
    path: str | os.PathLike,
    image_size: tuple[int, int] | None = None,
    num_classes: int | None = None,
) -> np.ndarray:
    """:func:`read_mask` then :func:`check_mask`."""
    label = read_mask(path)
    check_mask(label, image_size, num_classes, path)
    return label
