"""Diagnosing a mask file that does not load, and the repairs the user may choose.

A mask that cannot be used as it is (wrong size, values that are not classes, colours not in the
palette, a format that is not an 8-bit index PNG, a truncated file) must never be replaced by an
empty one behind the user's back. :func:`inspect_mask` reads the file once and returns either the
label map or a :class:`MaskDiagnosis` naming the problem and the repairs that apply; the functions
below compute each repair on arrays (the caller shows the result and saves it only once chosen).
Moving the file aside (:func:`move_aside`) keeps it under a new name that is never overwritten.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import SaveError
from .masks import rgb_to_index, unknown_values
from .palette import IGNORE_INDEX, colour_codes

# Repairs, in the order the dialog lists them.
ADD_CLASSES = "add_classes"  # values beyond the class list become new classes "class_N"
MAP_TO_IGNORE = "map_to_ignore"  # values beyond the class list become ignore (255)
RESAMPLE = "resample"  # wrong size: nearest-neighbour resize to the image size
PAD_CROP = "pad_crop"  # wrong size: keep the top-left part, pad with background (0)
NEAREST_COLOUR = "nearest_colour"  # RGB colours not in the palette: nearest class colour
BACKUP = "backup"  # move the file aside (kept, never overwritten) and start from an empty mask

REPAIR_TEXT = {
    ADD_CLASSES: "Add the missing classes (named class_N)",
    MAP_TO_IGNORE: "Map the unknown values to ignore (255)",
    RESAMPLE: "Resize the mask to the image (nearest neighbour)",
    PAD_CROP: "Pad or crop the mask to the image (top-left kept, padding is background)",
    NEAREST_COLOUR: "Map each foreign colour to the nearest class colour",
    BACKUP: "Move the file aside as a backup and start from an empty mask",
}


@dataclass
class MaskDiagnosis:
    """Why a mask file cannot be used as it is, and what can be done about it."""

    path: Path
    kind: str  # "size", "values", "colours", "format"
    message: str
    repairs: tuple[str, ...]
    label: np.ndarray | None = None  # the indices read (kinds "size" and "values")
    rgb: np.ndarray | None = None  # the colours read (kind "colours")


def inspect_mask(
    path: str | os.PathLike, image_size: tuple[int, int], num_classes: int, colours: np.ndarray | None = None
) -> tuple[np.ndarray | None, MaskDiagnosis | None]:
    """Read the mask at ``path`` for an image of ``image_size`` (width, height) and a class list of
    ``num_classes`` (colours: the (256, 3) class colour table for RGB masks, VOC by default).

    Returns ``(label, None)`` when the mask is usable, else ``(None, diagnosis)``.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            kind_of_file, mode = image.format, image.mode
            data = np.asarray(image.convert("RGB") if mode in ("RGB", "RGBA") else image)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        return None, _format(path, f"cannot be read ({exc})")
    if kind_of_file != "PNG":
        return None, _format(path, f"is {kind_of_file or 'not a PNG'} data, not a PNG mask")
    if mode in ("RGB", "RGBA"):
        label, unknown = rgb_to_index(data, colours)
        if unknown:
            shown = ", ".join(f"#{u:06x}" for u in unknown[:5])
            message = f"{path.name}: {len(unknown)} colour(s) that are not class colours ({shown})"
            return None, MaskDiagnosis(path, "colours", message, (NEAREST_COLOUR, BACKUP), rgb=data)
    elif mode in ("P", "L"):
        label = np.ascontiguousarray(data, dtype=np.uint8)
    elif mode.startswith("I"):
        if data.size and (data.min() < 0 or data.max() > 255):
            return None, _format(path, f"holds 16-bit values up to {int(data.max())}; masks are 8-bit")
        label = data.astype(np.uint8)
    else:
        return None, _format(path, f"has image mode {mode}; a mask is an 8-bit index or palette PNG")
    problem = diagnose_label(label, image_size, num_classes, path)
    return (None, problem) if problem is not None else (label, None)


def diagnose_label(
    label: np.ndarray, image_size: tuple[int, int], num_classes: int, path: str | os.PathLike = "mask"
) -> MaskDiagnosis | None:
    """The first problem of an index map (size, then values), or None when it fits."""
    path = Path(path)
    width, height = image_size
    if label.shape != (height, width):
        message = f"{path.name}: mask is {label.shape[1]}×{label.shape[0]} but its image is {width}×{height}"
        return MaskDiagnosis(path, "size", message, (RESAMPLE, PAD_CROP, BACKUP), label=label)
    bad = unknown_values(label, num_classes)
    if bad:
        shown = ", ".join(str(v) for v in bad[:10])
        message = f"{path.name}: values that are not classes (only {num_classes} defined): {shown}"
        return MaskDiagnosis(path, "values", message, (ADD_CLASSES, MAP_TO_IGNORE, BACKUP), label=label)
    return None


def _format(path: Path, what: str) -> MaskDiagnosis:
    return MaskDiagnosis(path, "format", f"{path.name} {what}", (BACKUP,))


# --------------------------------------------------------------------------------------- repairs


def classes_to_add(label: np.ndarray, num_classes: int) -> list[str]:
    """Names ``class_N`` for every index from ``num_classes`` up to the highest unknown value."""
    bad = unknown_values(label, num_classes)
    return [f"class_{i}" for i in range(num_classes, max(bad) + 1)] if bad else []


def map_to_ignore(label: np.ndarray, num_classes: int) -> np.ndarray:
    """Values that are not classes become the ignore label 255."""
    lut = np.arange(256, dtype=np.uint8)
    lut[num_classes:] = IGNORE_INDEX
    return np.take(lut, label)


def resample(label: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Resize to (width, height) with nearest neighbour (no new values appear)."""
    return cv2.resize(label, tuple(int(v) for v in image_size), interpolation=cv2.INTER_NEAREST)


def pad_crop(label: np.ndarray, image_size: tuple[int, int], fill: int = 0) -> np.ndarray:
    """Keep the top-left part that fits (width, height); pad the rest with ``fill``."""
    width, height = image_size
    out = np.full((height, width), fill, dtype=np.uint8)
    h, w = min(height, label.shape[0]), min(width, label.shape[1])
    out[:h, :w] = label[:h, :w]
    return out


def nearest_colour(rgb: np.ndarray, colours: np.ndarray, num_classes: int) -> np.ndarray:
    """Each colour becomes the class (0..num_classes-1, or ignore) whose colour is nearest (RGB)."""
    candidates = list(range(num_classes)) + [IGNORE_INDEX]
    table = np.asarray(colours, dtype=np.int64)[candidates]
    codes = colour_codes(rgb)
    uniques, inverse = np.unique(codes, return_inverse=True)
    rgb_u = np.stack([(uniques >> 16) & 255, (uniques >> 8) & 255, uniques & 255], axis=1).astype(np.int64)
    distance = ((rgb_u[:, None, :] - table[None, :, :]) ** 2).sum(axis=2)
    lut = np.asarray(candidates, dtype=np.uint8)[distance.argmin(axis=1)]
    return lut[inverse].reshape(codes.shape)


def repaired_label(
    problem: MaskDiagnosis, repair: str, image_size: tuple[int, int], colours: np.ndarray, num_classes: int
) -> np.ndarray:
    """The map that ``repair`` makes of the mask ``problem`` describes (for ADD_CLASSES, the map as
    read: the caller adds :func:`classes_to_add` first; for BACKUP, an empty map)."""
    if repair not in problem.repairs:
        raise ValueError(f"{repair!r} does not apply to a {problem.kind} problem")
    width, height = image_size
    if repair == BACKUP:
        return np.zeros((height, width), np.uint8)
    if repair == NEAREST_COLOUR:
        return nearest_colour(_read(problem.rgb, problem), colours, num_classes)
    label = _read(problem.label, problem)
    if repair == ADD_CLASSES:
        return label
    if repair == MAP_TO_IGNORE:
        return map_to_ignore(label, num_classes)
    if repair == RESAMPLE:
        return resample(label, image_size)
    return pad_crop(label, image_size)


def _read(data: np.ndarray | None, problem: MaskDiagnosis) -> np.ndarray:
    """What ``problem`` read; a diagnosis offers a repair only with the data that repair needs."""
    if data is None:
        raise ValueError(f"a {problem.kind} problem holds no data for this repair")
    return data


def backup_name(path: str | os.PathLike, now: float | None = None) -> Path:
    """``<name>.bak-<YYYYmmdd-HHMMSS>`` next to ``path`` (a counter is added if that exists)."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    candidate, n = path.with_name(f"{path.name}.bak-{stamp}"), 1
    while os.path.lexists(candidate):
        n += 1
        candidate = path.with_name(f"{path.name}.bak-{stamp}-{n}")
    return candidate


def move_aside(path: str | os.PathLike) -> Path:
    """Rename the mask file to a fresh backup name in its own folder; never overwrites a file."""
    path = Path(path)
    for _ in range(5):
        target = backup_name(path)
        try:
            _rename_no_replace(path, target)
        except FileExistsError:
            continue
        except OSError as exc:
            raise SaveError(f"cannot move {path.name} aside: {exc.strerror or exc}") from exc
        return target
    raise SaveError(f"cannot find a free backup name for {path.name}")



def _rename_no_replace(path: Path, target: Path) -> None:
    """Rename without ever replacing ``target`` (a hard link then unlink; a checked rename where the
    file system has no hard links)."""
    try:
        os.link(path, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.rename(path, target)
        return
    try:
        os.unlink(path)
    except OSError:
        os.unlink(target)
        raise
