"""Deleting a model removes only a real folder inside ``<save_dir>/models``, never through a link."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from segstudio.application.training.model_registry import delete_model, list_models
from segstudio.core.errors import SaveError
from segstudio.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_project import make_project  # noqa: E402
from state_helpers import checksums, fake_dialogs, make_window, settings  # noqa: E402,F401


def fake_model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights of the user's")
    (folder / "config.json").write_text("{}")
    return folder


@pytest.mark.parametrize("layout", ["models-is-link", "model-is-link"])
def test_model_behind_a_link_is_not_deleted(tmp_path, layout):
    project_dir = make_project(tmp_path / "project")
    outside = tmp_path / "outside"
    fake_model(outside / "precious")
    if layout == "models-is-link":
        (project_dir / "models").symlink_to(outside, target_is_directory=True)
    else:
        (project_dir / "models").mkdir()
        (project_dir / "models" / "precious").symlink_to(outside / "precious", target_is_directory=True)
    project = Project(project_dir)
    records = list_models(project.save_dir)
    assert [r.name for r in records] == ["precious"]
    before = checksums(outside, project_dir)
    with pytest.raises(SaveError):
        delete_model(project, records[0])
    assert checksums(outside, project_dir) == before


def test_window_reports_a_refused_deletion(tmp_path, make_window, fake_dialogs):
    project_dir = make_project(tmp_path / "project")
    outside = tmp_path / "outside"
    fake_model(outside / "precious")
    (project_dir / "models").symlink_to(outside, target_is_directory=True)
    window = make_window(project_dir)
    dock = window.model_features.models_dock
    dock.refresh()
    dock.tree.setCurrentItem(dock.tree.topLevelItem(0))
    assert dock.selected() is not None
    before = checksums(outside)
    dock.delete_selected()
    errors = [args for name, args in fake_dialogs.calls if name == "error"]
    assert any(args[1] == "Cannot delete model" and "link" in args[2] for args in errors)
    assert checksums(outside) == before


def test_own_model_is_still_deleted(tmp_path):
    project_dir = make_project(tmp_path / "project")
    fake_model(project_dir / "models" / "mine")
    project = Project(project_dir)
    delete_model(project, list_models(project.save_dir)[0])
    assert not (project_dir / "models" / "mine").exists()
