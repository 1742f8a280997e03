"""The review tables: numeric sorting, "—" for classes without pixels, validation from history."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt

from segstudio.application.review.controller import ImageMetrics
from segstudio.application.review.review_metrics import metrics_of, summary_text
from segstudio.gui.docks.review_dock import ReviewDock


def test_image_metrics_table_sorts_numerically_and_shows_dash(qtbot):
    dock = ReviewDock()
    qtbot.addWidget(dock)
    dock.set_classes(["background", "cat", "dog", "tree"], [(0, 0, 0), (200, 0, 0), (0, 200, 0), (0, 0, 200)])
    mask = np.zeros((10, 10), np.uint8)
    mask[:5] = 1
    mask[5:, :2] = 2
    pred = mask.copy()
    pred[5:, :1] = 0  # half of "dog" missed
    shown = metrics_of(mask, pred, 4)
    dock.show_metrics(ImageMetrics(shown, summary_text(shown.miou, shown.pixel_accuracy)))
    assert dock.image_table.rowCount() == 4
    table = dock.image_table
    values = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(4)}
    assert values["tree"] == "—" and values["cat"] == "1.000" and values["dog"] == "0.500"
    table.sortItems(1, Qt.SortOrder.AscendingOrder)
    order = [table.item(r, 0).text() for r in range(4)]
    assert order[:2] == ["dog", "background"] and order[-1] == "tree"  # numeric, "—" last
    table.sortItems(3, Qt.SortOrder.DescendingOrder)
    assert table.item(0, 0).text() == "cat"  # 50 mask pixels, more than 30 background
    assert "mIoU" in dock.image_summary.text()
    m = metrics_of(mask, pred, 4)
    assert math.isnan(m.iou[3]) and m.gt_pixels[1] == 50


def test_validation_table_from_history(qtbot):
    dock = ReviewDock()
    qtbot.addWidget(dock)
    dock.set_classes(["background", "cat"], [(0, 0, 0), (1, 1, 1)])
    dock.set_validation({"epochs": [{"epoch": 1, "val_iou": [0.9, None], "val_miou": 0.9,
                                     "val_pixel_accuracy": 0.95}], "class_names": ["background", "cat"]})
    assert dock.val_table.rowCount() == 2
    texts = {dock.val_table.item(r, 0).text(): dock.val_table.item(r, 1).text() for r in range(2)}
    assert texts == {"background": "0.900", "cat": "—"}
    assert "Epoch 1" in dock.val_summary.text() and "0.950" in dock.val_summary.text()
    dock.set_validation(None)
    assert dock.val_table.rowCount() == 0
