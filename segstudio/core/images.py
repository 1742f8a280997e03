"""Loading images for display and training, whatever their format.

Every image becomes an RGB uint8 array with its EXIF orientation applied: grayscale, palette, RGBA
(alpha dropped), 16-bit and float images (stretched to 0..255) are
converted without touching the file on disk. Errors are typed and name the file.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError
from .palette import colour_codes, voc_palette
from .safe_read import check_regular_file
from .words import not_a_folder

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

# 200 megapixels: well above any camera, below what would exhaust memory when decoded three times
# (image, mask, overlay). Pillow's own default (89 MP) would refuse large aerial tiles.
MAX_PIXELS = 200_000_000
# Pillow warns above its own limit and refuses at twice that; align it with ours so that images up to
# MAX_PIXELS open (the warning-as-error below would otherwise refuse anything above 89 MP).
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def is_image_file(path: str | os.PathLike) -> bool:
    """True for file names with an image extension we load (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def natural_key(text: str) -> list:
    """Sort key giving natural order: ``img2`` before ``img10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly in ``folder``, in natural order (hidden files skipped); names equal but
    for case (``Cat.jpg``, ``cat.jpg``) in code-point order, not in whatever order the folder holds them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageLoadError(not_a_folder(folder))
    files = [p for p in folder.iterdir() if p.is_file() and is_image_file(p) and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (natural_key(p.name), p.name))


def without_masks(files: list[Path]) -> list[Path]:
    """``files`` less the ``.png`` files that are the masks of another image of the list.

    When masks are saved beside their images (labelImg's default: the save folder is the image
    folder), ``photo.jpg``'s mask is ``photo.png``: that file is a mask, not a photo to label,
    predict or train on. But ``beach.png`` beside ``beach.jpg`` may be a second photo: a PNG is
    taken for a mask only if it looks like one (:func:`mask_beside_problem`). Otherwise both stay
    in the list; the project then refuses to save a mask for either (their masks would be one
    file) and says why the PNG was not taken for a mask (:func:`mask_beside_problem`).
    """
    photos = photos_by_stem(files)
    return [p for p in files if not (p.suffix.lower() == ".png" and _is_mask_of_any(p, photos.get(p.stem, [])))]


def photos_by_stem(files: list[Path]) -> dict[str, list[Path]]:
    """The files of ``files`` that are not PNGs, by stem: the photos a same-stem PNG may be a mask of."""
    photos: dict[str, list[Path]] = {}
    for path in files:
        if path.suffix.lower() != ".png":
            photos.setdefault(path.stem, []).append(path)
    return photos


def _is_mask_of_any(png: Path, photos: list[Path]) -> bool:
    """True when ``png`` looks like the mask of one of ``photos`` (same stem, other extension)."""
    return bool(photos) and any(mask_beside_problem(png, photo) is None for photo in photos)


def mask_beside_problem(png: Path, photo: Path) -> str | None:
    """Why ``png`` is not taken for the mask of ``photo`` (its same-stem neighbour), or None when it is.

    A mask is a one-channel 8-bit PNG of the photo's size (:func:`mask_file_problem`, headers
    only), or an RGB PNG of that size whose colours are all Pascal VOC class colours (the
    VOC-coloured masks other tools write; only then are its pixels read). A photo that cannot be
    read keeps its one-channel PNG as its mask.
    """
    problem = mask_file_problem(png)  # cheap check first: format and mode, not size
    if problem is not None and not _rgb_png(png):
        return problem
    try:
        size = image_size(photo)
    except ImageLoadError:
        return problem  # an unreadable photo: its one-channel PNG is still its mask
    if problem is None:
        return mask_file_problem(png, size)
    return _voc_coloured_problem(png, size)


def _rgb_png(path: Path) -> bool:
    try:
        with _open(path) as image:
            return image.format == "PNG" and image.mode in ("RGB", "RGBA")
    except ImageLoadError:
        return False


def _voc_coloured_problem(path: Path, size: tuple[int, int]) -> str | None:
    """Why the RGB PNG ``path`` is not a VOC-coloured mask of an image of ``size``, or None."""
    try:
        with _open(path) as image:
            width, height = image.size
            if (width, height) != tuple(size):
                return f"an RGB image of {width}×{height} pixels, not the {size[0]}×{size[1]} of its image"
            rgb = np.asarray(image.convert("RGB"))
    except (ImageLoadError, OSError, ValueError, SyntaxError) as exc:
        return f"not a readable image ({exc})"
    colours = np.unique(colour_codes(rgb))
    if np.isin(colours, colour_codes(voc_palette())).all():
        return None
    return "an RGB image with colours that are not class colours (a photo, or a mask in other colours)"


MASK_MODES = ("P", "L")  # what segstudio writes (P), and plain grayscale index masks (L)


def mask_file_problem(path: str | os.PathLike, size: tuple[int, int] | None = None) -> str | None:
    """Why the file at ``path`` does not look like a mask (of an image of ``size``), or None.

    The one rule for "this file is a mask": a PNG with one 8-bit channel (palette or grayscale)
    and, when ``size`` (width, height) is given, that size. Only the header is read, so it is
    cheap enough for every file of a folder listing and for every save.
    """
    path = Path(path)
    try:
        with _open(path) as image:
            fmt, mode, found = image.format, image.mode, image.size
    except ImageLoadError as exc:
        return f"not a readable image ({exc})"
    if fmt != "PNG":
        return f"a {fmt or 'non-PNG'} file, not a PNG"
    if mode not in MASK_MODES:
        return f"a {mode} image, not a one-channel mask"
    if size is not None and tuple(found) != tuple(size):
        return f"{found[0]}×{found[1]} pixels, not the {size[0]}×{size[1]} of its image"
    return None


def _open(path: Path) -> Image.Image:
    """Open ``path`` lazily (header only), refusing special files and oversized images."""
    check_regular_file(path, ImageLoadError, "image")  # a FIFO would block Pillow's open
    return open_checked(path, str(path))


def open_checked(source: str | os.PathLike | BinaryIO, name: str) -> Image.Image:
    """Open an image (a path or a binary stream) lazily, refusing what is unsafe to decode.

    The one bomb guard for every image we decode, whoever decodes it afterwards: the header's size
    is checked against :data:`MAX_PIXELS` before any pixel is read, and Pillow's own refusals
    (decompression bombs, oversized text chunks, which it reports as ``ValueError``) become
    :class:`ImageLoadError` naming ``name``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
        width, height = image.size
        if width * height > MAX_PIXELS:
            image.close()
            raise ImageLoadError(
                f"image too large to open safely: {name} ({width}×{height} pixels, "
                f"limit {MAX_PIXELS // 1_000_000} megapixels)"
            )
        return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"image too large to open safely (decompression bomb?): {name}") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"not an image or unsupported format: {name}") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageLoadError(f"cannot read image {name}: {exc}") from exc


def check_size(width: int, height: int, name: str) -> None:
    """:class:`ImageLoadError` unless ``width``×``height`` is a size we can decode and paint."""
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{name}: image size {width}×{height} is not valid")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{name}: image size {width}×{height} is too large (limit {MAX_PIXELS // 1_000_000} megapixels)"
        )


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) as displayed, i.e. after EXIF orientation, read from the header only."""
    return _header(Path(path))[1]


def _header(path: Path) -> tuple[str | None, tuple[int, int]]:
    """The format Pillow recognises in the file and the displayed (width, height)."""
    with _open(path) as image:
        width, height = image.size
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:  # a broken EXIF block must not make the image unusable
            orientation = 1
        fmt = image.format
    return fmt, ((height, width) if orientation in (5, 6, 7, 8) else (width, height))


def to_rgb8(image: Image.Image) -> np.ndarray:
    """Convert any Pillow image to an (H, W, 3) uint8 RGB array."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        data = np.asarray(image, dtype=np.float64)
        low, high = float(np.min(data)), float(np.max(data))
        scale = 255.0 / (high - low) if high > low else 0.0
        gray = ((data - low) * scale).clip(0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode != "RGB":
        image = image.convert("RGBA" if mode in ("P", "PA", "LA") and "transparency" in image.info else mode)
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8).copy()


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Load ``path`` as an (H, W, 3) uint8 RGB array with EXIF orientation applied.

    Raises :class:`ImageLoadError` naming the file when it is missing, corrupt or too large.
    Complete JPEGs are decoded by OpenCV: Pillow's decoder holds the GIL for ~30 ms at a time,
    which the GUI thread feels as stutter while a photo loads or a training run reads its data;
    OpenCV decodes without it and applies the EXIF orientation too. Anything else, or a JPEG
    whose OpenCV result does not have the oriented size Pillow reports, goes through Pillow.
    """
    path = Path(path)
    if path.suffix.lower() in _OPENCV_DECODED:
        rgb = _load_jpeg_with_opencv(path)
        if rgb is not None:
            return rgb
    return _load_with_pillow(path)


_OPENCV_DECODED = (".jpg", ".jpeg")
_JPEG_END = b"\xff\xd9"
_JPEG_FORMATS = ("JPEG", "MPO")  # MPO: a JPEG with extra pictures (many cameras); OpenCV reads the first


def _load_jpeg_with_opencv(path: Path) -> np.ndarray | None:
    """The decoded JPEG, or None where Pillow should decide (truncated, odd size, unreadable).

    OpenCV turns a truncated JPEG into a silently grey image, so only files that end with the
    JPEG end marker are decoded here; the rest reach Pillow, which reports them.
    """
    fmt, (width, height) = _header(path)  # missing file, special file and size limit checked here
    if fmt not in _JPEG_FORMATS:  # OpenCV would decode whatever it finds, unchecked: Pillow decides
        return None
    try:
        data = np.fromfile(path, dtype=np.uint8)  # (cv2.imread cannot open every Unicode path)
    except OSError:
        return None
    if data[-2:].tobytes() != _JPEG_END:
        return None
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None or bgr.shape[:2] != (height, width):
        return None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _load_with_pillow(path: Path) -> np.ndarray:
    image = _open(path)
    try:
        with image:
            image.load()
            try:
                image = ImageOps.exif_transpose(image)
            except Exception:  # broken EXIF: show the pixels as stored rather than fail
                pass
            return to_rgb8(image)
    except ImageLoadError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"corrupt or truncated image {path}: {exc}") from exc
