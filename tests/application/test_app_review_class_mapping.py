"""One rule maps a model's classes onto the project's: by name, background to background, a class
the project lacks to ignore. ``segstudio-cli evaluate --model`` and the review table (the window's
path: model runner, prediction in project classes, per-image metrics) report the same per-class
IoU for the same model on a project whose classes are in another order."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.application.review.model_runner import ModelRunner
from segstudio.application.review.review_metrics import metrics_of
from segstudio.application.review.review_rules import AcceptMode, accepted_label, prediction_in_project
from segstudio.cli.main import main
from segstudio.core.class_mapping import class_lut, map_model_classes
from segstudio.core.masks import write_mask

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))
from cli_helpers import checksums, photo, tiny_model  # noqa: E402

MODEL_CLASSES = ("background", "cat", "dog", "fish")
PROJECT_CLASSES = ["background", "dog", "cat", "bird"]  # cat and dog swapped; fish unknown, bird new


def test_by_name_whatever_the_order_case_or_background_spelling():
    mapping = map_model_classes(["Background", " Cat", "DOG", "fish"], ["_background_", "dog", "cat", "bird"])
    assert mapping.lut[:5].tolist() == [0, 2, 1, 255, 255] and mapping.lut[255] == 255
    assert any("fish" in w and "ignore" in w for w in mapping.warnings)
    assert any("bird" in w and "never predicted" in w for w in mapping.warnings)


def test_unknown_names_go_to_ignore_not_to_background_nor_to_a_renamed_neighbour():
    # The window used to guess "b" had been renamed to "renamed"; the command line called it
    # background. Neither is known: the pixel is no claim about the project's classes.
    assert class_lut(["bg", "a", "b"], ["background", "a", "renamed"])[:3].tolist() == [0, 1, 255]
    assert class_lut(["background", "a"], ["background", "a", "b"])[:3].tolist() == [0, 1, 255]


def test_generic_names_of_equal_length_are_compared_by_index_and_said_so():
    mapping = map_model_classes(["background", "class_1", "class_2"], ["background", "dog", "cat"])
    assert mapping.lut[:3].tolist() == [0, 1, 2] and "compared by index" in mapping.warnings[0]
    assert map_model_classes(["background", "class_1"], ["background", "dog", "cat"]).lut[1] == 255


def test_accept_never_writes_a_class_the_project_does_not_know():
    mask = np.array([[0, 1, 2]], np.uint8)
    in_project = prediction_in_project(np.array([[3, 3, 1]], np.uint8), list(MODEL_CLASSES), PROJECT_CLASSES)
    assert in_project.tolist() == [[255, 255, 2]]
    assert accepted_label(mask, in_project, AcceptMode.ALL).tolist() == [[0, 1, 2]]
    assert accepted_label(mask, in_project, AcceptMode.UNLABELLED).tolist() == [[0, 1, 2]]


@pytest.mark.parametrize("seed", [0, 3])
def test_cli_evaluate_and_the_review_table_agree(tmp_path, capsys, seed):
    model = tiny_model(tmp_path / "save" / "models" / "tiny", names=MODEL_CLASSES)
    image = photo(tmp_path / "images" / "a.jpg", size=(32, 40), seed=seed)
    (tmp_path / "save" / "classes.txt").write_text("".join(f"{n}\n" for n in PROJECT_CLASSES))
    truth = np.random.default_rng(seed).integers(0, 4, (32, 40)).astype(np.uint8)
    truth[:3] = 255  # painted ignore: left out on both sides
    write_mask(tmp_path / "save" / "a.png", truth)
    before = checksums(tmp_path / "images", tmp_path / "save")

    status = main(["evaluate", str(tmp_path / "save"), "--model", str(model), "--images",
                   str(tmp_path / "images"), "--classes", str(tmp_path / "save" / "classes.txt"),
                   "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    cli = json.loads(captured.out)["classes"]

    result = ModelRunner().predict(tmp_path / "save", model, image)  # the window's prediction
    shown = prediction_in_project(result.labels, result.class_names, PROJECT_CLASSES)
    review = metrics_of(truth, shown, len(PROJECT_CLASSES))  # the review table's numbers
    assert (result.labels == 3).any() and (result.labels == 1).any()  # fish and cat predicted
    for index, row in enumerate(cli):
        assert row["name"] == PROJECT_CLASSES[index]
        mine = review.iou[index]
        assert (row["iou"] is None and math.isnan(mine)) or row["iou"] == pytest.approx(mine, abs=1e-12)
        assert row["gt_pixels"] == review.gt_pixels[index] and row["pred_pixels"] == review.pred_pixels[index]
    assert cli[3]["pred_pixels"] == 0  # "bird" is unknown to the model
    written = checksums(tmp_path / "images", tmp_path / "save")
    assert {k: v for k, v in written.items() if "/.segstudio/" not in k} == before  # only the cache is new
