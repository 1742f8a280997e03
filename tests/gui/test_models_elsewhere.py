"""A model trained or deleted in another window of the same shared folder appears in (or leaves)
this window's Models list at the next heartbeat, and the model selected here stays selected."""

from __future__ import annotations

import shutil

from gui_project import CLASSES
from model_fixtures import save_constant_model


def names(dock) -> list[str]:
    return [record.name for record in dock.records]


def test_the_models_list_follows_the_folder_and_keeps_the_selection(window, project_dir):
    dock = window.model_features.models_dock
    save_constant_model(project_dir / "models" / "mine", list(CLASSES), 1)
    dock.refresh()
    dock.select_path(project_dir / "models" / "mine")
    save_constant_model(project_dir / "models" / "bobs-run", list(CLASSES), 2)  # another window's run
    assert names(dock) == ["mine"]
    window.session.models_changed.emit()  # what the heartbeat says (tests/application: when)
    assert sorted(names(dock)) == ["bobs-run", "mine"]
    assert dock.selected().name == "mine"
    shutil.rmtree(project_dir / "models" / "bobs-run")
    window.session.models_changed.emit()
    assert names(dock) == ["mine"] and dock.selected().name == "mine"
