"""A received project's ``.segstudio/project.json`` may hold anything: every value is checked before
use, and none of them stops the project from opening or its models from being listed."""

from __future__ import annotations

import json

import pytest
from cli_helpers import photo

from segstudio.application.live.scribbles import unpainted_value
from segstudio.application.review.review_rules import project_aliases
from segstudio.application.training.model_registry import active_model_path
from segstudio.core.project import Project

HOSTILE = {
    "aliases not an object": {"class_aliases": [1, 2]},
    "aliases of numbers and huge keys": {"class_aliases": {"cat": 5, "dog": None, "x" * 10000: "cat"}},
    "unpainted a list": {"unpainted": ["unlabelled"]},
    "colours not colours": {"class_colours": {"cat": "#zzzzzz", "dog": 5, "background": [1, 2, 3]}},
    "active model an object": {"active_model": {"a": 1}},
    "active model with NUL": {"active_model": "models/\x00x"},
    "active model too long to stat": {"active_model": "a" * 100_000},
    "class list of numbers": {"class_list": ["background", 5, None]},
    "class list of 1001 names": {"class_list": ["background"] + [f"c{i}" for i in range(1000)]},
    "class list splitting a line": {"class_list": ["background", "ca\u2028t"]},
}


@pytest.mark.parametrize("settings", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_settings_open_and_are_ignored(tmp_path, settings):
    photo(tmp_path / "a.jpg", size=(6, 8))
    (tmp_path / "classes.txt").write_text("background\ncat\n")
    (tmp_path / ".segstudio").mkdir()
    (tmp_path / ".segstudio" / "project.json").write_text(json.dumps(settings))
    project = Project(tmp_path, read_only=True)
    assert project.classes.names == ["background", "cat"]
    assert active_model_path(project) is None
    assert isinstance(project_aliases(project), dict) and unpainted_value(project) in (0, 255)
    if "class_list" in settings:
        assert any("class list recorded" in w for w in project.class_warnings)
