"""The recovery folder is never followed when it is a link, and nothing but our own copies is ever
deleted from it; it exists only while it holds a copy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from segstudio.core.masks import write_mask
from segstudio.core.recovery import RECOVERY_FOLDER

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_helpers import drag, flush, wait_loaded  # noqa: E402
from gui_project import make_project  # noqa: E402
from state_helpers import checksums, fake_dialogs, make_window, settings  # noqa: E402,F401


def paint(window, cls=1, y=20):
    window.select_class(cls)
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, y), (40, y)])


def switch(window, key):
    QTest.keyClick(window, key)
    assert wait_loaded(window)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder of the user's, holding files named like the project's recovery copies."""
    folder = tmp_path / "outside"
    folder.mkdir()
    for stem in ("img1", "img2", "img3"):
        write_mask(folder / f"{stem}.png", np.full((60, 80), 2, np.uint8))  # mask-like: the worst case
    return folder


@pytest.mark.parametrize("autosave", [True, False])
def test_linked_recovery_folder_is_replaced_and_never_followed(tmp_path, outside, make_window, fake_dialogs, autosave):
    project = make_project(tmp_path / "project")
    link = project / RECOVERY_FOLDER
    link.symlink_to(outside, target_is_directory=True)
    before = checksums(outside)
    fake_dialogs.restore_answer = False  # a declined "copy" is deleted: never through the link
    fake_dialogs.unsaved_answer = "discard"
    window = make_window(project)
    assert any("symbolic link" in w for w in window.session.open_warnings)
    window.actions["autosave"].setChecked(autosave)
    for key in (Qt.Key.Key_D, Qt.Key.Key_D, Qt.Key.Key_A):
        paint(window)
        window.session.flush()  # the stroke's delayed write: mask or recovery copy
        flush(window)
        switch(window, key)
    flush(window)
    assert checksums(outside) == before
    assert not link.is_symlink()
    if autosave:
        assert not link.exists()  # nothing written there: no empty folder left behind


def test_link_made_while_open_is_refused_not_followed(tmp_path, outside, make_window, fake_dialogs):
    project = make_project(tmp_path / "project")
    window = make_window(project)
    window.actions["autosave"].setChecked(False)
    (project / RECOVERY_FOLDER).symlink_to(outside, target_is_directory=True)  # after the open
    before = checksums(outside)
    paint(window)
    window.session.flush()
    flush(window)
    assert any(name == "error" and "symbolic link" in args[2] for name, args in fake_dialogs.calls)
    fake_dialogs.unsaved_answer = "discard"
    switch(window, Qt.Key.Key_D)
    flush(window)
    assert checksums(outside) == before


def test_files_that_are_not_our_copies_are_never_deleted(tmp_path, outside, make_window, fake_dialogs):
    project = make_project(tmp_path / "project")
    folder = project / RECOVERY_FOLDER
    folder.mkdir()
    Image.new("RGB", (80, 60), (1, 2, 3)).save(folder / "img1.png")  # a photo, not a mask we wrote
    (folder / "img2.png").symlink_to(outside / "img2.png")  # a link to the user's file
    os.mkfifo(folder / "img3.png")
    mine = checksums(folder, outside)
    fake_dialogs.restore_answer = False
    window = make_window(project)
    for key in (Qt.Key.Key_D, Qt.Key.Key_D):
        paint(window)
        window.save()
        flush(window)
        switch(window, key)
    paint(window)
    window.save()
    flush(window)
    assert "ask_restore" not in fake_dialogs.names()
    assert checksums(folder, outside) == mine
    assert (folder / "img3.png").exists()


def test_recovery_folder_exists_only_while_it_holds_a_copy(tmp_path, make_window, fake_dialogs):
    project = make_project(tmp_path / "project")
    folder = project / RECOVERY_FOLDER
    window = make_window(project)
    window.actions["autosave"].setChecked(False)
    assert not folder.exists()
    paint(window)
    window.session.flush()
    flush(window)
    assert (folder / "img1.png").is_file()
    window.save()
    flush(window)
    assert (project / "img1.png").is_file()
    assert not folder.exists()  # the last copy went: so did the folder
