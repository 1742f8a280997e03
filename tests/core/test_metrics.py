"""Confusion matrix and metrics: hand-computed cases, ignore, NaN for absent classes, accumulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segstudio.core.metrics import ConfusionMatrix, compute_metrics, confusion_matrix

GT = np.array([[0, 0, 1, 1], [0, 2, 2, 255]], np.uint8)
PRED = np.array([[0, 1, 1, 1], [0, 2, 0, 1]], np.uint8)


def test_hand_computed_matrix_and_metrics() -> None:
    matrix = confusion_matrix(GT, PRED, 4)
    assert matrix.tolist() == [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    m = compute_metrics(matrix)
    # class 0: tp 2, gt 3, pred 3 -> IoU 2/4 ; class 1: tp 2, gt 2, pred 3 -> 2/3 ; class 2: tp 1, gt 2, pred 1 -> 1/2
    assert m.iou[:3] == pytest.approx([0.5, 2 / 3, 0.5])
    assert m.accuracy[:3] == pytest.approx([2 / 3, 1.0, 0.5])
    assert m.dice[:3] == pytest.approx([4 / 6, 4 / 5, 2 / 3])
    assert m.gt_pixels.tolist() == [3, 2, 2, 0] and m.pred_pixels.tolist() == [3, 3, 1, 0]
    assert all(math.isnan(v[3]) for v in (m.iou, m.accuracy, m.dice))  # class 3 absent from both
    assert m.miou == pytest.approx((0.5 + 2 / 3 + 0.5) / 3)
    assert m.pixel_accuracy == pytest.approx(5 / 7)  # the 255 pixel is not counted
    assert m.fw_iou == pytest.approx((3 * 0.5 + 2 * 2 / 3 + 2 * 0.5) / 7)


def test_predicted_only_class_scores_zero_not_nan() -> None:
    m = compute_metrics(confusion_matrix(np.zeros((2, 2), np.uint8), np.array([[0, 1], [0, 0]], np.uint8), 3))
    assert m.iou[1] == 0.0 and m.dice[1] == 0.0
    assert math.isnan(m.accuracy[1])  # recall of a class with no ground truth is undefined
    assert math.isnan(m.iou[2])
    assert m.miou == pytest.approx((0.75 + 0.0) / 2)


def test_predictions_that_are_not_classes_are_misses() -> None:
    gt = np.array([[1, 1, 1, 1]], np.uint8)
    pred = np.array([[1, 7, 255, 1]], np.uint8)
    cm = ConfusionMatrix(2)
    cm.update(gt, pred)
    assert cm.matrix.tolist() == [[0, 0], [0, 2]]
    m = cm.compute()
    assert m.gt_pixels.tolist() == [0, 4]
    assert m.iou[1] == pytest.approx(0.5) and m.accuracy[1] == pytest.approx(0.5)
    assert m.pixel_accuracy == pytest.approx(0.5)
    assert math.isnan(m.iou[0])


def test_gt_values_that_are_not_classes_are_skipped() -> None:
    matrix = confusion_matrix(np.array([[0, 9, 255]], np.uint8), np.array([[0, 0, 0]], np.uint8), 2)
    assert matrix.tolist() == [[1, 0], [0, 0]]


def test_accumulation_equals_one_big_matrix() -> None:
    rng = np.random.default_rng(3)
    gts = [rng.integers(0, 5, (17, 23), dtype=np.uint8) for _ in range(4)]
    preds = [rng.integers(0, 5, (17, 23), dtype=np.uint8) for _ in range(4)]
    gts[1][:3] = 255
    cm, other = ConfusionMatrix(5), ConfusionMatrix(5)
    for gt, pred in zip(gts[:2], preds[:2]):
        cm.update(gt, pred)
    for gt, pred in zip(gts[2:], preds[2:]):
        other.update(gt, pred)
    cm.merge(other)
    big = confusion_matrix(np.concatenate(gts), np.concatenate(preds), 5)
    assert np.array_equal(cm.matrix, big)
    # and a naive count agrees
    naive = np.zeros((5, 5), np.int64)
    for gt, pred in zip(gts, preds):
        for g, p in zip(gt.ravel(), pred.ravel()):
            if g != 255:
                naive[g, p] += 1
    assert np.array_equal(big, naive)
    assert cm.compute().miou == pytest.approx(compute_metrics(big).miou)
    cm.reset()
    assert cm.matrix.sum() == 0


def test_empty_and_bad_input() -> None:
    m = ConfusionMatrix(3).compute()
    assert math.isnan(m.miou) and math.isnan(m.pixel_accuracy) and math.isnan(m.fw_iou)
    assert m.to_dict()["miou"] is None
    with pytest.raises(ValueError):
        confusion_matrix(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8), 2)
    with pytest.raises(ValueError):
        ConfusionMatrix(2).merge(ConfusionMatrix(3))


def test_to_dict_uses_names_and_none_for_nan() -> None:
    d = compute_metrics(confusion_matrix(GT, PRED, 4)).to_dict(["bg", "a", "b", "c"])
    assert d["classes"][1]["name"] == "a" and d["classes"][1]["iou"] == pytest.approx(2 / 3)
    assert d["classes"][3]["iou"] is None and d["classes"][3]["gt_pixels"] == 0
    assert d["pixel_accuracy"] == pytest.approx(5 / 7)

