"""Losses against values computed independently with numpy on tiny tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from segstudio.model.training.losses import (
    BinaryLoss,
    CrossEntropyLoss,
    DiceLoss,
    FocalLoss,
    build_loss,
    class_pixel_counts,
    class_weights_from_counts,
    parse_loss_spec,
    upsample_logits,
)

# 1 image, 3 classes, 2x2 pixels; labels with one ignored pixel
LOGITS = np.array([[[[2.0, 0.0], [1.0, -1.0]],
                    [[0.5, 1.0], [0.0, 2.0]],
                    [[-1.0, 0.5], [3.0, 0.0]]]], dtype=np.float32)
LABELS = np.array([[[0, 1], [255, 1]]], dtype=np.uint8)


def _np_softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _valid_probs():
    p = _np_softmax(LOGITS.astype(np.float64))[0]  # (3, 2, 2)
    pix = [(0, 0, 0), (0, 1, 1), (1, 1, 1)]  # (row, col, class) of valid pixels
    return p, pix


def _t(a):
    return torch.from_numpy(a)


def test_cross_entropy_mean_over_valid_pixels():
    p, pix = _valid_probs()
    expected = np.mean([-math.log(p[c, r, q]) for r, q, c in pix])
    got = CrossEntropyLoss()(_t(LOGITS), _t(LABELS)).item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_cross_entropy_class_weights_weighted_mean():
    p, pix = _valid_probs()
    w = np.array([2.0, 0.5, 1.0])
    num = sum(w[c] * -math.log(p[c, r, q]) for r, q, c in pix)
    den = sum(w[c] for _, _, c in pix)
    got = CrossEntropyLoss(class_weights=w.tolist())(_t(LOGITS), _t(LABELS)).item()
    assert got == pytest.approx(num / den, rel=1e-5)


def test_cross_entropy_label_smoothing():
    p, pix = _valid_probs()
    eps, k = 0.1, 3
    vals = []
    for r, q, c in pix:
        target = np.full(k, eps / k)
        target[c] += 1 - eps
        vals.append(-(target * np.log(p[:, r, q])).sum())
    got = CrossEntropyLoss(label_smoothing=eps)(_t(LOGITS), _t(LABELS)).item()
    assert got == pytest.approx(np.mean(vals), rel=1e-5)


def test_all_ignored_gives_zero_not_nan():
    labels = np.full((1, 2, 2), 255, np.uint8)
    logits = _t(LOGITS).requires_grad_()
    loss = build_loss("ce+dice+focal")(logits, _t(labels))
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-7)
    assert torch.isfinite(logits.grad).all()


def test_focal_loss_by_hand():
    p, pix = _valid_probs()
    gamma, alpha = 2.0, np.array([0.25, 0.5, 1.0])
    vals = [-alpha[c] * (1 - p[c, r, q]) ** gamma * math.log(p[c, r, q]) for r, q, c in pix]
    got = FocalLoss(gamma=gamma, alpha=alpha.tolist())(_t(LOGITS), _t(LABELS)).item()
    assert got == pytest.approx(np.mean(vals), rel=1e-5)


def test_focal_with_gamma_zero_equals_ce():
    ce = CrossEntropyLoss()(_t(LOGITS), _t(LABELS)).item()
    assert FocalLoss(gamma=0.0)(_t(LOGITS), _t(LABELS)).item() == pytest.approx(ce, rel=1e-6)


def test_dice_by_hand():
    p, pix = _valid_probs()
    eps = 1.0
    dices = []
    for c in range(3):
        inter = sum(p[c, r, q] for r, q, cc in pix if cc == c)
        psum = sum(p[c, r, q] for r, q, _ in pix)
        gsum = sum(1 for _, _, cc in pix if cc == c)
        dices.append((2 * inter + eps) / (psum + gsum + eps))
    got = DiceLoss(eps=eps)(_t(LOGITS), _t(LABELS)).item()
    assert got == pytest.approx(1 - np.mean(dices), rel=1e-5)


def test_bce_single_foreground_class_ignores_255():
    logits = np.array([[[[2.0, -1.0], [0.5, 3.0]]]], np.float32)
    labels = np.array([[[1, 0], [255, 0]]], np.uint8)
    x = [2.0, -1.0, 3.0]
    y = [1.0, 0.0, 0.0]
    expected = np.mean([-(t * math.log(1 / (1 + math.exp(-v))) + (1 - t) * math.log(1 - 1 / (1 + math.exp(-v))))
                        for v, t in zip(x, y)])
    assert BinaryLoss()(_t(logits), _t(labels)).item() == pytest.approx(expected, rel=1e-5)
    assert build_loss("ce", num_labels=1)(_t(logits), _t(labels)).item() == pytest.approx(expected, rel=1e-5)


def test_logits_upsampled_bilinear_to_label_size():
    logits = torch.randn(1, 3, 2, 2)
    labels = torch.randint(0, 3, (1, 8, 8), dtype=torch.uint8)
    up = torch.nn.functional.interpolate(logits, size=(8, 8), mode="bilinear", align_corners=False)
    ce = CrossEntropyLoss()(logits, labels).item()
    expected = torch.nn.functional.cross_entropy(up, labels.long()).item()
    assert ce == pytest.approx(expected, rel=1e-6)
    assert upsample_logits(logits, labels).shape == (1, 3, 8, 8)


def test_weighted_sum_spec():
    ce = CrossEntropyLoss()(_t(LOGITS), _t(LABELS)).item()
    dice = DiceLoss()(_t(LOGITS), _t(LABELS)).item()
    got = build_loss("0.5*ce+2*dice")(_t(LOGITS), _t(LABELS)).item()
    assert got == pytest.approx(0.5 * ce + 2 * dice, rel=1e-6)
    assert parse_loss_spec("ce + .5*dice") == [(1.0, "ce"), (0.5, "dice")]
    for bad in ("", "ce+", "xyz", "2*", "ce*2"):
        with pytest.raises(ValueError):
            parse_loss_spec(bad)


def test_class_weights_from_frequencies():
    masks = [np.array([[0, 0, 0, 1], [0, 0, 2, 255]], np.uint8), np.zeros((2, 2), np.uint8)]
    counts = class_pixel_counts(masks, 4)
    assert counts.tolist() == [9, 1, 1, 0]
    median = class_weights_from_counts(counts, "median")
    f = np.array([9, 1, 1]) / 11
    assert median[:3] == pytest.approx(np.median(f) / f, rel=1e-6)
    assert median[3] == 0
    inv = class_weights_from_counts(counts, "inv_sqrt")
    raw = 1 / np.sqrt(f)
    assert inv[:3] == pytest.approx(raw / raw.mean(), rel=1e-6)


def test_gradients_flow_and_point_the_right_way():
    logits = torch.zeros(1, 2, 4, 4, requires_grad=True)
    labels = torch.ones(1, 4, 4, dtype=torch.uint8)
    build_loss("ce+dice+focal")(logits, labels).backward()
    assert (logits.grad[0, 1] < 0).all() and (logits.grad[0, 0] > 0).all()
