"""The instant learner's parts (numpy only): multi-scale pixel features and the small MLP that
learns painted pixels; it must separate what the features tell apart, and stay bounded on large images."""

from __future__ import annotations

import numpy as np

from segstudio.core.pixel_classifier import PixelClassifier, single_threaded
from segstudio.core.pixel_features import FEATURES, WORK_SIDE, pixel_features, to_work, work_shape


def _two_textures(rng: np.random.Generator, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Left half smooth grey, right half a fine checker of the same mean: only texture tells them apart."""
    rgb = np.full((size, size, 3), 128, np.uint8)
    checker = ((np.indices((size, size // 2)).sum(0) % 2) * 80 + 88).astype(np.uint8)
    rgb[:, size // 2:] = checker[..., None]
    rgb = np.clip(rgb.astype(int) + rng.integers(-5, 6, rgb.shape), 0, 255).astype(np.uint8)
    label = np.zeros((size, size), np.uint8)
    label[:, size // 2:] = 1
    return rgb, label


def test_features_are_float_maps_at_the_work_size() -> None:
    rgb = np.zeros((40, 30, 3), np.uint8)
    maps = pixel_features(rgb)
    assert maps.shape == (40, 30, FEATURES) and maps.dtype == np.float32
    assert work_shape((3000, 1500)) == (WORK_SIDE, WORK_SIDE // 2)
    big = np.zeros((3000, 1500), np.uint8)
    assert to_work(big, nearest=True).shape == (WORK_SIDE, WORK_SIDE // 2)


def test_the_classifier_learns_strokes_and_predicts_the_rest() -> None:
    rng = np.random.default_rng(0)
    rgb, label = _two_textures(rng)
    maps = pixel_features(rgb)
    strokes = np.zeros(label.shape, bool)
    strokes[4:60, 12:15] = strokes[4:60, 48:51] = True  # one stroke down the middle of each half
    classifier = PixelClassifier(FEATURES, 3)
    with single_threaded():
        first = classifier.fit(maps[strokes], label[strokes].astype(np.int64), 50)
        last = classifier.fit(maps[strokes], label[strokes].astype(np.int64), 150)
    probs = classifier.proba(maps.reshape(-1, FEATURES))
    assert probs.shape == (64 * 64, 3) and np.allclose(probs.sum(1), 1.0, atol=1e-4)
    predicted = probs.argmax(1).reshape(label.shape)
    inner = np.s_[:, 4:22], np.s_[:, 42:60]  # away from the boundary, where the scales mix
    assert last < first
    assert (predicted[inner[0]] == 0).mean() > 0.85 and (predicted[inner[1]] == 1).mean() > 0.85
    assert probs[:, 2].max() < 0.2  # a class nobody painted is not predicted


def test_nothing_to_learn_is_not_an_error() -> None:
    classifier = PixelClassifier(4, 2)
    assert np.isnan(classifier.fit(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), 10))
    assert classifier.steps == 0
