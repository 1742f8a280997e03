"""Magic wand: a flat region is selected exactly; tolerance grows it; contiguity and seeds."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core.assist.wand import WandSession, colour_distance, magic_wand


def _image() -> np.ndarray:
    image = np.zeros((40, 50, 3), np.uint8)
    image[5:20, 10:30] = (200, 40, 40)  # flat red rectangle
    image[12, 15] = (206, 38, 44)  # a pixel 6 away inside it
    image[30:35, 40:45] = (200, 40, 40)  # same colour, not connected
    return image


def test_flat_region_equals_the_region() -> None:
    image = _image()
    region = magic_wand(image, (11, 6), tolerance=0)
    truth = np.zeros((40, 50), bool)
    truth[5:20, 10:30] = True
    truth[12, 15] = False
    assert np.array_equal(region, truth)


def test_tolerance_while_dragging_and_global_mode() -> None:
    session = WandSession(_image(), (11, 6))
    assert session.region(5).sum() == 15 * 20 - 1
    assert session.region(6).sum() == 15 * 20
    assert session.region(6, contiguous=False).sum() == 15 * 20 + 25
    assert session.region(255).all()


def test_distance_is_largest_channel_difference() -> None:
    image = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    expected = np.abs(image.astype(int) - image[4, 3].astype(int)).max(axis=2)
    assert np.array_equal(colour_distance(image, (3, 4)), expected)
    gray = image[:, :, 0].copy()
    assert np.array_equal(colour_distance(gray, (3, 4)), np.abs(gray.astype(int) - int(gray[4, 3])))


def test_seed_outside_the_image_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        magic_wand(_image(), (50, 0), 10)
