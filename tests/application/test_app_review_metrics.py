"""The review tables' numbers: per-class metrics of one image and the last validation (no Qt)."""

from __future__ import annotations

import math

import numpy as np

from segstudio.application.review.review_metrics import (
    DASH,
    format_ratio,
    has_painting,
    last_validation,
    metrics_of,
    summary_text,
)


def test_metrics_of_one_image_ignores_255_and_leaves_absent_classes_undefined():
    mask = np.zeros((10, 10), np.uint8)
    mask[:5] = 1
    mask[5:, :2] = 2
    mask[9, 9] = 255
    pred = mask.copy()
    pred[5:, :1] = 0  # half of "dog" missed
    pred[9, 9] = 1  # under ignore: not counted
    m = metrics_of(mask, pred, 4)
    assert m.iou[1] == 1.0 and m.iou[2] == 0.5 and math.isnan(m.iou[3])
    assert m.gt_pixels[1] == 50 and m.pred_pixels[1] == 50


def test_has_painting_needs_a_class_other_than_background_and_ignore():
    mask = np.zeros((3, 3), np.uint8)
    assert not has_painting(mask)
    mask[0, 0] = 255
    assert not has_painting(mask)
    mask[1, 1] = 2
    assert has_painting(mask)


def test_formatting_uses_the_dash_for_missing_values():
    assert format_ratio(None) == DASH and format_ratio(math.nan) == DASH
    assert format_ratio(np.float32(0.5)) == "0.500"
    assert summary_text(0.25, None) == f"mIoU 0.250 · pixel accuracy {DASH}"


def test_last_validation_reads_history_and_fills_gaps():
    assert last_validation(None, ["background"]) is None
    assert last_validation({"epochs": []}, ["background"]) is None
    history = {"epochs": [{"epoch": 1, "val_iou": [0.1]},
                          {"epoch": 2, "val_iou": [0.9, None], "val_miou": 0.9, "val_pixel_accuracy": 0.95}],
               "class_names": ["background", "cat", "dog"]}
    summary = last_validation(history, ["ignored"])
    assert summary.names == ["background", "cat", "dog"]
    assert summary.iou[0] == 0.9 and math.isnan(summary.iou[1]) and math.isnan(summary.iou[2])
    assert summary.text == "Epoch 2: mIoU 0.900 · pixel accuracy 0.950"
    no_names = last_validation({"epochs": [{"val_iou": [0.5, 0.25]}]}, ["background", "cat"])
    assert no_names.names == ["background", "cat"] and no_names.iou == [0.5, 0.25]
    assert no_names.text.startswith("Epoch 1: mIoU")
