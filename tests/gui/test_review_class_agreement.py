"""The window's review table and ``segstudio-cli evaluate --model`` give the same per-class IoU for
the same model and mask, when the model numbers its classes in another order than the project
and knows a class the project does not (one rule: ``core.class_mapping``)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.cli.main import main
from segstudio.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from cli_helpers import checksums, tiny_model  # noqa: E402
from gui_helpers import close, flush  # noqa: E402

MODEL_CLASSES = ("background", "dog", "cat", "fish")  # the project is background, cat, dog, tree


def test_window_review_and_cli_evaluate_agree(qtbot, make_window, project_dir, capsys):
    model = tiny_model(project_dir / "models" / "tiny", names=MODEL_CLASSES)
    truth = np.zeros((60, 80), np.uint8)
    truth[:20], truth[20:40, :40], truth[40:, 40:] = 1, 2, 3
    truth[:, :3] = 255
    Project(project_dir).save(Project(project_dir).entries[0], truth)
    window = make_window(project_dir)
    features = window.model_features
    features.models_dock.refresh()
    features.models_dock.set_active(model)
    qtbot.waitUntil(lambda: features.review_dock.metrics is not None, timeout=30000)
    review = features.review_dock.metrics
    shown = features.prediction.labels
    flush(window)
    close(window)  # the project lock is released; the command line reads the same files

    before = checksums(project_dir)
    status = main(["evaluate", str(project_dir), "--model", str(model), "--images", str(project_dir),
                   "--classes", str(project_dir / "classes.txt"), "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "fish not in the project's classes" in captured.err and "tree unknown to the model" in captured.err
    cli = json.loads(captured.out)["classes"]
    assert len(cli) == 4 and set(np.unique(shown)) - {0, 1, 2, 255} == set()  # never "tree"
    for index, row in enumerate(cli):
        mine = review.iou[index]
        assert (row["iou"] is None and math.isnan(mine)) or row["iou"] == pytest.approx(mine, abs=1e-12)
        assert row["gt_pixels"] == review.gt_pixels[index] and row["pred_pixels"] == review.pred_pixels[index]
    assert checksums(project_dir) == before
