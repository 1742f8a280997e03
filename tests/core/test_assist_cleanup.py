"""Clean-up: holes filled, islands removed into their surroundings, edges smoothed; batch over
files with progress, cancel, unchanged files left alone and a broken file reported."""

from __future__ import annotations

import hashlib
from functools import partial

import cv2
import numpy as np

from segstudio.core.assist.cleanup import clean_masks, fill_holes, remove_islands, smooth_boundaries
from segstudio.core.masks import read_mask, write_mask


def _label() -> np.ndarray:
    label = np.zeros((30, 30), np.uint8)
    label[2:20, 2:20] = 1
    label[6:9, 6:9] = 0  # background hole in class 1
    label[12:14, 12:14] = 2  # class 2 inside class 1
    label[25, 25] = 1  # a one-pixel island on background
    label[4, 15] = 3  # a one-pixel island inside class 1
    return label


def test_fill_holes_fills_background_holes_only_by_default() -> None:
    label = _label()
    filled = fill_holes(label, 1)
    assert (filled[6:9, 6:9] == 1).all()
    assert (filled[12:14, 12:14] == 2).all()
    assert (filled[20:, :] == label[20:, :]).all()  # the outside, touching the edge, is no hole
    assert (fill_holes(label, 1, over_other_classes=True)[12:14, 12:14] == 1).all()
    assert (fill_holes(label, 1, max_area=4)[6:9, 6:9] == 0).all()  # a 9-pixel hole is too big
    assert np.array_equal(label, _label())  # the input is untouched


def test_remove_islands_takes_the_surrounding_label() -> None:
    label = _label()
    cleaned = remove_islands(label, min_pixels=2)
    assert cleaned[25, 25] == 0
    assert cleaned[4, 15] == 1
    assert (cleaned[12:14, 12:14] == 2).all()  # 4 pixels: kept
    assert remove_islands(label, 2, values=[3])[25, 25] == 1


def test_smooth_boundaries_removes_a_jagged_edge() -> None:
    label = np.zeros((40, 40), np.uint8)
    label[:, :20] = 1
    label[::4, 20] = 1  # teeth along the edge
    smooth = smooth_boundaries(label, 3)
    assert (smooth[:, 20] == 0).all() and (smooth[:, :20] == 1).all()
    assert np.array_equal(smooth_boundaries(label, 3, values=[2]), label)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clean_masks_batch(tmp_path) -> None:
    rough = _label()
    clean = np.zeros((30, 30), np.uint8)
    cv2.rectangle(clean, (3, 3), (10, 10), 1, -1)
    write_mask(tmp_path / "a.png", rough)
    write_mask(tmp_path / "b.png", clean)
    (tmp_path / "c.png").write_bytes(b"not a png")
    before = {name: _sha(tmp_path / name) for name in ("b.png", "c.png")}
    progress = []
    report = clean_masks(
        [tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"],
        partial(remove_islands, min_pixels=2),
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert report.written == [tmp_path / "a.png"]
    assert read_mask(tmp_path / "a.png")[25, 25] == 0
    assert {name: _sha(tmp_path / name) for name in ("b.png", "c.png")} == before
    assert len(report.errors) == 1 and "c.png" in report.errors[0]
    assert progress[-1] == (3, 3)
    stopped = clean_masks([tmp_path / "b.png"], partial(remove_islands, min_pixels=2), should_stop=lambda: True)
    assert stopped.stopped and not stopped.written
