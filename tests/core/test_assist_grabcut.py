"""GrabCut proposals: a clear object is found, strokes correct it, big images go through the
downscaled path with edges decided at full size, and degenerate boxes fall back to the box."""

from __future__ import annotations

import cv2
import numpy as np

from segstudio.core.assist import grabcut
from segstudio.core.assist.grabcut import grabcut_box, grabcut_refine


def _scene(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy green field with a noisy red tilted ellipse; returns (image, truth mask)."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((height, width), np.uint8)
    cv2.ellipse(truth, (width // 2, height // 2), (width // 5, height // 6), 20, 0, 360, 1, -1)
    field = np.clip(rng.normal((40, 120, 60), 14, (height, width, 3)), 0, 255)
    thing = np.clip(rng.normal((200, 60, 40), 14, (height, width, 3)), 0, 255)
    image = np.where(truth[:, :, None] == 1, thing, field).astype(np.uint8)
    return image, truth.astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _box_around(truth: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(truth)
    return xs.min() - pad, ys.min() - pad, xs.max() + 1 + pad, ys.max() + 1 + pad


def test_clear_object_found_with_iou_above_0_9() -> None:
    image, truth = _scene(160, 120)
    result = grabcut_box(image, _box_around(truth, 8))
    assert not result.fallback
    assert _iou(result.mask, truth) >= 0.9
    x0, y0, x1, y1 = result.box
    outside = result.mask.copy()
    outside[y0:y1, x0:x1] = False
    assert not outside.any()  # nothing proposed outside the box
    assert result.seconds > 0


def test_large_image_is_downscaled_and_edges_stay_sharp() -> None:
    image, truth = _scene(1200, 900, seed=1)
    result = grabcut_box(image, _box_around(truth, 30), max_side=200)
    assert result.scale < 0.5
    assert _iou(result.mask, truth) >= 0.97  # blocky upscaling alone would lose the edge pixels


def test_strokes_refine_the_proposal() -> None:
    image, truth = _scene(160, 120, seed=2)
    blue = np.zeros_like(truth)
    blue[35:60, 95:125] = True  # a blue block over the ellipse's right end, inside the box
    blue &= ~truth
    image[blue] = (40, 60, 210)
    first = grabcut_box(image, _box_around(truth | blue, 8))
    assert (first.mask & blue).sum() > 0.5 * blue.sum()  # the first guess takes the block too
    stroke = np.zeros_like(truth)
    stroke[45:48, 108:118] = True  # one short background stroke on the block
    refined = grabcut_refine(image, first, background=stroke)
    assert (refined.mask & blue).sum() < 0.05 * blue.sum()
    assert _iou(refined.mask, truth) >= 0.9
    foreground = np.zeros_like(truth)
    x0, y0, _, _ = refined.box
    cx0, cy0, _, _ = refined.crop
    foreground[cy0 : y0 - 1, cx0 : x0 - 1] = True  # on the field, outside the box: still obeyed
    foreground[0:2, 0:2] = True  # outside the modelled crop: ignored
    again = grabcut_refine(image, refined, foreground=foreground)
    assert again.mask[cy0 : y0 - 1, cx0 : x0 - 1].all() and not again.mask[0:2, 0:2].any()
    assert not (again.mask & stroke).any()  # the earlier stroke still holds


def test_degenerate_boxes_fall_back_to_the_box() -> None:
    image, _ = _scene(40, 30)
    whole = grabcut_box(image, (0, 0, 40, 30))
    assert whole.fallback and whole.mask.all()
    flipped = grabcut_box(image, (30, 20, 29, 60))  # corners swapped, past the edge, 1 px wide
    assert flipped.fallback
    assert flipped.mask.sum() == 1 * 10 and flipped.mask[20:30, 29].all()


def test_a_thin_stroke_survives_the_downscale() -> None:
    image, truth = _scene(800, 600, seed=4)
    blue = np.zeros_like(truth)
    blue[150:300, 480:640] = True
    blue &= ~truth
    image[blue] = (40, 60, 210)
    first = grabcut_box(image, _box_around(truth | blue, 20), max_side=120)
    assert first.scale < 0.25 and (first.mask & blue).sum() > 0.5 * blue.sum()
    stroke = np.zeros_like(truth)
    stroke[220, 520:600] = True  # one pixel thick: under a quarter of a working pixel
    refined = grabcut_refine(image, first, background=stroke)
    assert (refined.mask & blue).sum() < 0.05 * blue.sum()


def _faint_disc() -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """A noisy grey image with a disc only slightly brighter: plain GrabCut gives its box to the
    background (the low-contrast small objects of road scenes do that too)."""
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(100, 12, (120, 160, 3)), 0, 255).astype(np.uint8)
    rows, cols = np.mgrid[:120, :160]
    disc = (rows - 60) ** 2 + (cols - 80) ** 2 < 15**2
    image[disc] = np.clip(image[disc].astype(int) + 6, 0, 255)
    return image, disc, (62, 42, 98, 78)


def test_a_box_grabcut_gives_to_the_background_is_run_again_from_its_centre(monkeypatch):
    image, disc, box = _faint_disc()
    monkeypatch.setattr(grabcut, "RESCUE_KEEP", 0.0)
    assert grabcut.grabcut_box(image, box).mask.sum() == 0  # what GrabCut alone does here
    monkeypatch.undo()
    mask = grabcut.grabcut_box(image, box).mask
    assert (mask & disc).sum() / (mask | disc).sum() > 0.6
    assert not mask[:, :62].any() and not mask[:, 98:].any()  # never outside the box


def test_a_background_stroke_withdraws_the_guessed_centre_near_it():
    image, disc, box = _faint_disc()
    first = grabcut.grabcut_box(image, box)
    stroke = np.zeros(disc.shape, bool)
    stroke[58:62, 66:70] = True  # "not this", inside the guessed ellipse, on its left
    refined = grabcut.grabcut_refine(image, first, background=stroke)
    assert not refined.mask[stroke].any()
    x0, y0 = first.crop[:2]
    assert first.labels[60 - y0, 73 - x0] == cv2.GC_FGD  # the guessed centre, beside the stroke
    assert refined.labels[60 - y0, 73 - x0] != cv2.GC_FGD  # withdrawn near the stroke...
    assert refined.labels[60 - y0, 88 - x0] == cv2.GC_FGD  # ...and kept away from it
