"""Mask clean-up: fill holes inside a class, remove small islands, smooth ragged boundaries.

Each operation takes an (H, W) uint8 label map and returns a new one (the input is untouched), so
the window can preview the result and apply the difference as one undo step. Pixels an operation
takes away from a class are given the label of the nearest pixel that keeps its label, so removing
a speck inside a road makes it road, not background. :func:`clean_masks` applies an operation to
many mask files with progress and cancel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np

from ..atomic import atomic_write_bytes
from ..batch import BatchReport, Progress, StopFlag, run_batch
from ..masks import label_counts, read_mask, write_mask
from ..palette import IGNORE_INDEX
from ..paths import is_read_only


def _values(label: np.ndarray, values: Iterable[int] | None) -> list[int]:
    """The class values to work on: those given, else every class present but background/ignore."""
    if values is not None:
        return sorted({int(v) for v in values})
    present = np.flatnonzero(label_counts(label)).tolist()
    return [v for v in present if v not in (0, IGNORE_INDEX)]


def fill_holes(
    label: np.ndarray, value: int, max_area: int | None = None, over_other_classes: bool = False
) -> np.ndarray:
    """Fill the holes of class ``value``: regions that it encloses completely (not touching the image
    edge). Holes larger than ``max_area`` pixels are kept; holes holding other classes are kept
    unless ``over_other_classes`` (only background/unlabelled holes are filled by default)."""
    label = np.asarray(label, np.uint8)
    outside = (label != value).view(np.uint8)
    count, components, stats, _ = cv2.connectedComponentsWithStats(outside, connectivity=4)
    if count <= 1:
        return label.copy()
    fill = np.ones(count, bool)
    fill[0] = False
    border = np.concatenate([components[0], components[-1], components[:, 0], components[:, -1]])
    fill[np.unique(border)] = False
    if max_area is not None:
        fill &= stats[:, cv2.CC_STAT_AREA] <= max_area
    if not over_other_classes:
        labelled = np.bincount(components[(label != 0) & (outside != 0)], minlength=count)
        fill &= labelled == 0
    result = label.copy()
    result[fill[components]] = value
    return result


def fill_all_holes(label: np.ndarray, values: Iterable[int] | None = None) -> np.ndarray:
    """:func:`fill_holes` for every class present (but background and ignore), or for ``values``."""
    result = np.asarray(label, np.uint8).copy()
    for value in _values(result, values):
        result = fill_holes(result, value)
    return result


def remove_islands(label: np.ndarray, min_pixels: int, values: Iterable[int] | None = None) -> np.ndarray:
    """Remove 8-connected regions of fewer than ``min_pixels`` pixels of the given classes (default:
    every class but background and ignore); their pixels take the nearest surrounding label."""
    label = np.asarray(label, np.uint8)
    removed = np.zeros(label.shape, bool)
    for value in _values(label, values):
        region = (label == value).view(np.uint8)
        count, components, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
        small = stats[:, cv2.CC_STAT_AREA] < min_pixels
        small[0] = False
        if small.any():
            removed |= small[components]
    return _fill_from_nearest(label, removed)


def smooth_boundaries(label: np.ndarray, radius: int, values: Iterable[int] | None = None) -> np.ndarray:
    """Smooth ragged edges: each pixel takes the class that dominates a Gaussian window of about
    ``radius`` pixels around it. With ``values``, only edges of those classes move."""
    label = np.asarray(label, np.uint8)
    if radius < 1:
        return label.copy()
    size = 2 * int(radius) + 1
    best_score = np.full(label.shape, -1.0, np.float32)
    best = label.copy()
    for value in np.flatnonzero(label_counts(label)).tolist():
        score = cv2.GaussianBlur((label == value).astype(np.float32), (size, size), radius / 2)
        better = score > best_score
        best[better] = value
        best_score = np.maximum(best_score, score)
    if values is not None:
        chosen = np.asarray(sorted({int(v) for v in values}), np.uint8)
        keep = ~(np.isin(label, chosen) | np.isin(best, chosen))
        best[keep] = label[keep]
    return best


def _fill_from_nearest(label: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """``label`` with the ``removed`` pixels set to the label of the nearest pixel that is kept."""
    result = label.copy()
    if not removed.any():
        return result
    if removed.all():
        result[:] = 0
        return result
    # distanceTransformWithLabels numbers the zero (kept) pixels in raster order (DIST_LABEL_PIXEL).
    _, nearest = cv2.distanceTransformWithLabels(
        removed.view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    kept_values = label[~removed]
    result[removed] = kept_values[nearest[removed] - 1]
    return result


def clean_masks(
    mask_paths: Iterable[str | os.PathLike],
    operation: Callable[[np.ndarray], np.ndarray],
    colours: np.ndarray | None = None,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
    backup_dir: str | os.PathLike | None = None,
    load: Callable[[Path], np.ndarray] = read_mask,
) -> BatchReport:
    """Apply ``operation`` to each mask file and save (atomically) the ones it changes.

    ``colours`` is the project's colour table for the saved palette. ``load`` reads a mask and
    refuses one that is not usable as it is (a project passes its own check: the image's size,
    values that are classes); such a mask is reported in ``report.errors`` and left untouched, as
    is a read-only one (in ``report.skipped``: the user protected it, and an atomic save would
    replace it all the same), and the others are still cleaned; unchanged masks are listed in
    ``report.skipped`` and not rewritten. With ``backup_dir``, each mask is copied there (same
    name) before it is rewritten: a batch has no undo, so the originals stay at hand.
    """
    report = BatchReport()

    def clean(path: Path) -> None:
        if is_read_only(path):
            report.skipped.append(f"{path.name}: read-only, left as it is")
            return
        label = load(path)
        cleaned = operation(label)
        if np.array_equal(cleaned, label):
            report.skipped.append(f"{path.name}: nothing to change")
            return
        if backup_dir is not None:
            Path(backup_dir).mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(Path(backup_dir) / path.name, path.read_bytes())
        write_mask(path, cleaned, colours)
        report.written.append(path)

    return run_batch([Path(p) for p in mask_paths], clean, report, on_progress, should_stop)
