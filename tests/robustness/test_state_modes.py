"""Class edits (rename, reorder, delete) rewrite classes.txt, masks and XML keeping each file's
permissions: a shared dataset does not become private."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.application import class_rewrite
from segstudio.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_helpers import flush, settle  # noqa: E402
from gui_project import make_project  # noqa: E402
from state_helpers import fake_dialogs, make_window, settings  # noqa: E402,F401


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def shared(tmp_path):
    """A labelled project whose files are shared (0644, the XML group-writable 0664)."""
    folder = make_project(tmp_path / "project")
    project = Project(folder)
    label = np.zeros((60, 80), np.uint8)
    label[0:10], label[10:20], label[20:30] = 1, 2, 3
    project.save(project.entries[0], label)
    project.save(project.entries[1], label[::-1].copy())
    wanted = {}
    for path in [folder / "classes.txt", *folder.glob("img*.png"), *folder.glob("img*.xml")]:
        wanted[path] = 0o664 if path.suffix == ".xml" else 0o644
        os.chmod(path, wanted[path])
    return folder, wanted


@pytest.mark.parametrize("edit", ["rename", "move", "delete"])
def test_class_edit_in_the_window_keeps_modes(shared, make_window, fake_dialogs, edit):
    folder, wanted = shared
    window = make_window(folder)
    fake_dialogs.text_answer = "kitten"
    editor = window.class_editor
    edits = {"rename": lambda: editor.rename(1), "move": lambda: editor.move(1, 1), "delete": lambda: editor.delete(2)}
    assert edits[edit]()
    settle(window)
    assert not list(folder.glob(".*.remap"))
    assert {path: mode(path) for path in wanted} == wanted
    window.select_class(1)  # a later save of the rewritten files keeps the mode too
    from gui_helpers import drag
    drag(window.canvas, [(10, 40), (40, 40)])
    window.save()
    flush(window)
    assert {path: mode(path) for path in wanted} == wanted


def test_rewrite_project_keeps_modes_and_new_files_follow_the_umask(shared):
    folder, wanted = shared
    os.remove(folder / "img2.xml")  # no XML yet: created with the umask's default
    del wanted[folder / "img2.xml"]
    project = Project(folder)
    lut = project.classes.reorder([0, 2, 1, 3])
    class_rewrite.rewrite_project(project, lut)
    assert {path: mode(path) for path in wanted} == wanted
    umask = os.umask(0)
    os.umask(umask)
    assert mode(folder / "img2.xml") == 0o666 & ~umask
