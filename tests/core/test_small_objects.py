"""The small-object rule of click to segment: an object's size in feature cells, when to crop, the
padded crop kept inside the image, and the crop's mask pasted back at its exact pixels."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core.assist.small_objects import (
    CROP_CONTEXT,
    FEATURE_GRID,
    MIN_CROP_PIXELS,
    SMALL_OBJECT_CELLS,
    CropBox,
    crop_around,
    feature_cells,
    is_small,
    object_box,
    paste,
    prompt_box,
    small_object_crop,
)


def test_feature_cells_follow_the_models_frame_on_a_non_square_image() -> None:
    # SAM 2 stretches 4000×3000 to the square: 62.5 px a cell across, 46.875 down
    assert feature_cells((0, 0, 125, 93.75), 4000, 3000) == pytest.approx((2.0, 2.0))
    # SAM letterboxes: 62.5 px a cell both ways
    assert feature_cells((0, 0, 125, 125), 4000, 3000, letterbox=True) == pytest.approx((2.0, 2.0))


def test_the_threshold_is_on_the_longer_side_in_cells() -> None:
    cell = 4000 / FEATURE_GRID
    just_under = SMALL_OBJECT_CELLS * cell - 1
    assert is_small((100, 100, 100 + just_under, 110), 4000, 3000)
    assert not is_small((100, 100, 100 + SMALL_OBJECT_CELLS * cell, 110), 4000, 3000)
    assert not is_small((100, 100, 110, 100 + 3000), 4000, 3000)  # a thin but tall object


def test_a_box_larger_than_the_threshold_gets_no_crop() -> None:
    big = (1000, 1000, 1000 + 4000 * SMALL_OBJECT_CELLS / FEATURE_GRID + 1, 1200)
    assert small_object_crop(big, 4000, 3000) is None
    assert small_object_crop(None, 4000, 3000) is None


def test_a_small_object_gets_a_square_crop_centred_on_it_with_context() -> None:
    crop = small_object_crop((1900, 1400, 2000, 1450), 4000, 3000)
    assert crop is not None
    side = int(CROP_CONTEXT * 100)
    assert (crop.width, crop.height) == (side, side)
    assert (crop.x0 + crop.x1) / 2 == pytest.approx(1950, abs=1) and (crop.y0 + crop.y1) / 2 == pytest.approx(1425,
                                                                                                           abs=1)


def test_a_one_pixel_object_gets_the_smallest_crop_and_holds_its_pixel() -> None:
    crop = crop_around((37, 2999, 38, 3000), 4000, 3000)  # the bottom row's pixel 37
    assert (crop.width, crop.height) == (MIN_CROP_PIXELS, MIN_CROP_PIXELS)
    assert crop.holds(np.array([[37, 2999]])) and crop.y1 == 3000 and crop.x0 == 0


@pytest.mark.parametrize("box", [(0, 0, 5, 5), (3995, 2990, 4000, 3000), (0, 1500, 30, 1520), (2000, 0, 2010, 7)])
def test_an_object_touching_the_border_gets_a_full_size_crop_moved_inside(box) -> None:
    crop = crop_around(box, 4000, 3000)
    assert 0 <= crop.x0 and 0 <= crop.y0 and crop.x1 <= 4000 and crop.y1 <= 3000
    assert (crop.width, crop.height) == (MIN_CROP_PIXELS, MIN_CROP_PIXELS)
    assert crop.x0 <= box[0] and crop.y0 <= box[1] and box[2] <= crop.x1 and box[3] <= crop.y1


def test_on_an_image_no_larger_than_the_crop_there_is_nothing_to_gain() -> None:
    assert small_object_crop((10, 10, 12, 12), 200, 150) is None
    crop = small_object_crop((10, 10, 12, 12), 1000, 150)  # wide and low: cut to the image's height
    assert crop == CropBox(0, 0, MIN_CROP_PIXELS, 150)


def test_every_crop_lies_inside_the_image_and_holds_the_object() -> None:
    rng = np.random.default_rng(0)
    for _ in range(2000):
        width, height = (int(v) for v in rng.integers(1, 4001, 2))
        x0, x1 = sorted(rng.uniform(0, width, 2))
        y0, y1 = sorted(rng.uniform(0, height, 2))
        crop = crop_around((x0, y0, x1, y1), width, height)
        assert 0 <= crop.x0 < crop.x1 <= width and 0 <= crop.y0 < crop.y1 <= height
        assert crop.x0 <= np.floor(x0) and crop.y0 <= np.floor(y0) and np.ceil(x1) <= crop.x1 + 1
        assert np.ceil(y1) <= crop.y1 + 1
        assert crop.width == min(width, max(MIN_CROP_PIXELS, int(np.ceil(CROP_CONTEXT * max(x1 - x0, y1 - y0, 1)))))


def test_paste_places_the_crop_mask_at_its_exact_pixels_and_nothing_else() -> None:
    rng = np.random.default_rng(1)
    crop = CropBox(3700, 2744, 4000, 3000)  # at the bottom-right corner of a 4000×3000 photo
    mask = rng.random((crop.height, crop.width)) > 0.5
    full = paste(mask, crop, 3000, 4000)
    assert full.shape == (3000, 4000) and full.dtype == bool
    assert np.array_equal(full[2744:, 3700:], mask)
    assert full.sum() == mask.sum()  # nothing outside the crop
    with pytest.raises(ValueError, match="crop is"):
        paste(mask[1:], crop, 3000, 4000)
    with pytest.raises(ValueError, match="leaves"):
        paste(mask, CropBox(3701, 2744, 4001, 3000), 3000, 4000)


def test_points_and_boxes_move_into_the_crops_pixels() -> None:
    crop = CropBox(10, 20, 50, 60)
    assert crop.to_crop(np.array([[10.5, 20.5], [49.9, 59.9]])).tolist() == [[0.5, 0.5], [39.9, 39.9]]
    assert crop.holds(np.array([[10, 20], [49.9, 59.9]]))
    assert not crop.holds(np.array([[50, 30]])) and not crop.holds(np.array([[9.9, 30]]))


def test_the_object_box_comes_from_the_box_prompt_else_the_mask_and_the_points() -> None:
    mask = np.zeros((30, 40), bool)
    assert object_box(mask) is None and prompt_box(np.array([[3, 4]]), None, mask) is None
    mask[5:8, 10:20] = True
    assert object_box(mask) == (10, 5, 20, 8)
    assert prompt_box(np.zeros((0, 2)), None, mask) == (10, 5, 20, 8)
    assert prompt_box(np.array([[25.5, 6]]), None, mask) == (10, 5, 26.5, 8)  # the click off the mask is in
    assert prompt_box(np.array([[25.5, 6]]), (1, 2, 3, 4), mask) == (1, 2, 3, 4)
    mask[:] = False
    mask[29, 39] = True  # one pixel in the corner
    assert object_box(mask) == (39, 29, 40, 30)
