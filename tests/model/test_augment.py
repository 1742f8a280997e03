"""Training/validation transforms: sizes, padding values, label integrity, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.model.data.augment import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    AugmentConfig,
    fit_long_side,
    normalize,
    photometric_jitter,
    resize_pair,
    train_transform,
    val_transform,
)


def _stripes(h=48, w=80):
    """An image whose colour encodes its label (3 classes in vertical bands) + a 255 block."""
    label = np.zeros((h, w), np.uint8)
    label[:, w // 3: 2 * w // 3] = 1
    label[:, 2 * w // 3:] = 2
    label[:5, :5] = 255
    colours = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200]], np.uint8)
    image = colours[np.minimum(label, 2)]
    return image, label


def test_normalize_is_imagenet_chw():
    image = np.array([[[255, 0, 128]]], np.uint8)
    out = normalize(image)
    assert out.shape == (3, 1, 1) and out.dtype == np.float32
    expected = (np.array([1.0, 0.0, 128 / 255]) - IMAGENET_MEAN) / IMAGENET_STD
    assert out[:, 0, 0] == pytest.approx(expected, rel=1e-5)


def test_train_transform_shapes_labels_and_padding():
    image, label = _stripes()
    cfg = AugmentConfig(size=64, scale_range=(0.5, 0.5))  # long side 32: always padded
    x, y = train_transform(image, label, cfg, np.random.default_rng(0))
    assert x.shape == (3, 64, 64) and x.dtype == np.float32
    assert y.shape == (64, 64) and y.dtype == np.uint8
    assert set(np.unique(y).tolist()) <= {0, 1, 2, 255}
    pad = y == 255
    assert pad.sum() >= 64 * 64 - 32 * 20  # most of the canvas is padding
    # without ignore pixels in the source, every 255 is padding, and padding is exactly 0
    label[label == 255] = 0
    x, y = train_transform(image, label, cfg, np.random.default_rng(0))
    assert np.all(x[:, y == 255] == 0) and np.all(x[:, y != 255] != 0)


def test_labels_only_nearest_never_new_values():
    rng = np.random.default_rng(1)
    image, label = _stripes(37, 53)
    cfg = AugmentConfig(size=64)
    for _ in range(20):
        _, y = train_transform(image, label, cfg, rng)
        assert set(np.unique(y).tolist()) <= {0, 1, 2, 255}
    _, big = resize_pair(image, label, 200, 150)
    assert set(np.unique(big).tolist()) == {0, 1, 2, 255}


def test_label_follows_image_through_flip_and_crop():
    """The colour under each label stays the colour of that class (no jitter, no resize)."""
    image, label = _stripes(64, 96)
    cfg = AugmentConfig(size=64, scale_range=(1.5, 1.5), photometric_p=0.0)  # long side 96: no resize
    for seed in range(6):
        x, y = train_transform(image, label, cfg, np.random.default_rng(seed))
        red = x[0] > x[1]  # class 0 is red
        assert np.all(red[y == 0]) and not np.any(red[(y == 1) | (y == 2)])


def test_same_rng_same_sample():
    image, label = _stripes()
    cfg = AugmentConfig(size=64)
    a = train_transform(image, label, cfg, np.random.default_rng(42))
    b = train_transform(image, label, cfg, np.random.default_rng(42))
    c = train_transform(image, label, cfg, np.random.default_rng(43))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_scale_range_sets_long_side():
    image, label = _stripes(40, 80)
    cfg = AugmentConfig(size=64, scale_range=(0.5, 0.5), flip=False, photometric_p=0.0)
    _, y = train_transform(image, label, cfg, np.random.default_rng(0))
    content = y != 255
    assert content.any(axis=0).sum() == 32 and content.any(axis=1).sum() == 16
    assert fit_long_side(80, 40, 128) == (128, 64)


def test_photometric_jitter_changes_colour_keeps_dtype():
    image, _ = _stripes()
    cfg = AugmentConfig(photometric_p=1.0)
    out = photometric_jitter(image, cfg, np.random.default_rng(3))
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert not np.array_equal(out, image)
    same = photometric_jitter(image, AugmentConfig(photometric_p=0.0), np.random.default_rng(3))
    assert np.abs(same.astype(int) - image).max() <= 1


def test_val_transform_fits_long_side_and_pads_to_32():
    image, label = _stripes(50, 100)
    x, y = val_transform(image, label, 64)
    assert x.shape == (3, 32, 64) and y.shape == (32, 64)
    assert (y == 255).any() and (y == 255).sum() <= 16  # only the ignore corner, no padding
    x2, y2 = val_transform(image, label, 96)
    assert x2.shape == (3, 64, 96)
    assert np.all(y2[48:] == 255) and np.all(x2[:, 48:] == 0)
    assert val_transform(image, None, 64)[1] is None
