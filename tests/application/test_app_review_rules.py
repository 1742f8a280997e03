"""Accept rules and the per-class error map, on hand-made arrays (no Qt, no torch)."""

from __future__ import annotations

import numpy as np

from segstudio.application.review.review_rules import AcceptMode, accepted_label, class_error_map
from segstudio.core.overlay import MISSED_RGBA, WRONG_RGBA


def test_accept_modes_never_write_over_ignore_and_leave_the_mask_alone():
    mask = np.array([[0, 1], [255, 0]], np.uint8)
    pred = np.array([[2, 2], [2, 1]], np.uint8)
    before = mask.copy()
    assert accepted_label(mask, pred, AcceptMode.ALL).tolist() == [[2, 2], [255, 1]]
    assert accepted_label(mask, pred, AcceptMode.UNLABELLED).tolist() == [[2, 1], [255, 1]]
    assert accepted_label(mask, pred, AcceptMode.CLASS, 1).tolist() == [[0, 1], [255, 1]]
    assert accepted_label(mask, pred, AcceptMode.CLASS, 2).tolist() == [[2, 2], [255, 0]]
    assert (mask == before).all()


def test_accept_refuses_a_prediction_of_another_size():
    try:
        accepted_label(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8), AcceptMode.ALL)
    except ValueError as exc:
        assert "differ in size" in str(exc)
    else:
        raise AssertionError("a prediction of another size was accepted")


def test_class_error_map_keeps_only_the_chosen_class():
    pred, mask = np.array([[0, 2, 3]], np.uint8), np.array([[1, 1, 3]], np.uint8)
    errors = class_error_map(pred, mask, None)
    assert tuple(errors[0, 0]) == MISSED_RGBA and tuple(errors[0, 1]) == WRONG_RGBA
    only_two = class_error_map(pred, mask, 2)
    assert only_two[0, 0, 3] == 0 and only_two[0, 1, 3] > 0 and only_two[0, 2, 3] == 0
    only_one = class_error_map(pred, mask, 1)
    assert only_one[0, 0, 3] > 0 and only_one[0, 1, 3] > 0 and only_one[0, 2, 3] == 0


def test_a_worse_new_model_does_not_replace_the_active_one(tmp_path) -> None:
    from segstudio.application.training.model_registry import ModelRecord, replaces_active

    def record(name: str, miou: float) -> ModelRecord:
        return ModelRecord(name=name, path=tmp_path / name, best_miou=miou)

    assert replaces_active(record("new", 0.7), None) == (True, "")
    assert replaces_active(record("new", 0.7), record("old", 0.6)) == (True, "")
    assert replaces_active(record("new", float("nan")), record("old", 0.6))[0]
    keep, why = replaces_active(record("new", 0.5), record("old", 0.6))
    assert not keep and "worse" in why and "old" in why


def test_class_aliases_map_a_model_class_onto_another_name_or_none(tmp_path) -> None:
    import numpy as np

    from segstudio.application.review.review_rules import prediction_in_project, project_aliases, set_project_aliases
    from segstudio.core.classes import ClassList, save_class_file
    from segstudio.core.project import Project

    model = ["wall", "building", "sky", "tree"]
    project_names = ["background", "house", "sky", "tree"]
    labels = np.array([[0, 1, 2, 3]], np.uint8)
    assert prediction_in_project(labels, model, project_names).tolist() == [[0, 255, 2, 3]]
    aliases = {"building": "house", "tree": ""}
    assert prediction_in_project(labels, model, project_names, aliases).tolist() == [[0, 1, 2, 255]]
    save_class_file(tmp_path / "classes.txt", ClassList(project_names))
    project = Project(tmp_path)
    set_project_aliases(project, {"building": "house", "sky": "sky", "tree": ""})
    assert project_aliases(Project(tmp_path)) == {"building": "house", "tree": ""}  # "sky" changes nothing


def test_hostile_alias_settings_give_fewer_aliases_never_an_error() -> None:
    from segstudio.core.class_mapping import aliases_from_settings

    assert aliases_from_settings(["not", "a", "dict"]) == {}
    assert aliases_from_settings({"a": "b", "c": 3, 4: "d"}) == {"a": "b"}
