"""Races between the session's background writer and the user switching projects.

A save is queued behind a write that is still running (the writer pool is held busy by a gate), then
another folder is opened. The queued save must land in the project it was made for, and nothing in
the second project may change: not a mask, not its class file, not a recovery copy of the same name.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import flush, wait_loaded  # noqa: E402
from gui_project import make_project

from segstudio.core import recovery
from segstudio.core.classes import ClassList, save_class_file
from segstudio.core.masks import read_mask
from segstudio.core.voc_xml import read_annotation


def _all_files(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, the app's state folders included."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _second_project(folder: Path) -> Path:
    """Other images, other class names (fewer classes) and a recovery copy named like image 1 of
    the first project: exactly what a save run against the wrong project would touch."""
    make_project(folder, count=2)
    for index in (1, 2):
        (folder / f"img{index}.jpg").rename(folder / f"other{index}.jpg")
    save_class_file(folder / "classes.txt", ClassList(["background", "road", "car"]))
    recovery.write_copy(folder, "img1", np.ones((60, 80), np.uint8), ClassList(["background", "road"]).colour_table())
    return folder


@pytest.mark.parametrize("value", [1, 3])  # 3: a class the second project does not have
def test_save_queued_before_opening_another_folder_lands_in_its_own_project(make_window, tmp_path, value):
    first = make_project(tmp_path / "first", count=2)
    second = _second_project(tmp_path / "second")
    window = make_window(first)
    session = window.session
    gate = threading.Event()
    session._writer.submit(gate.wait, 20)  # the writer is busy: the next save waits in the queue
    painted = np.zeros_like(session.document.label)
    painted[10:30, 10:40] = value
    session.document.set_label(painted)
    try:
        assert window.open_project(second)  # autosave queues the save of img1, then project 2 opens
        assert wait_loaded(window) and session.project.image_dir == second.resolve()
        before = _all_files(second)
    finally:
        gate.set()
    flush(window)
    assert _all_files(second) == before  # nothing written, renamed or deleted in project 2
    assert not (second / "img1.png").exists() and not (second / "img1.xml").exists()
    np.testing.assert_array_equal(read_mask(first / "img1.png"), painted)
    names = {obj.name for obj in read_annotation(first / "img1.xml").objects}
    assert names == {["background", "cat", "dog", "tree"][value]}  # the first project's class names
    assert window.status_labels["save"].text() == "saved"


@pytest.mark.parametrize("answer", ["save", "discard"])
def test_recovery_copy_queued_before_opening_another_folder(make_window, tmp_path, fake_dialogs, answer):
    """Autosave off: the delayed write (a recovery copy) waits in the queue, then another folder is
    opened and the user answers the unsaved-changes question. The copy is for project 1 only, and
    is gone from it once the edits are saved or discarded (never offered again as unsaved work)."""
    first = make_project(tmp_path / "first", count=2)
    second = _second_project(tmp_path / "second")
    window = make_window(first)
    window.actions["autosave"].setChecked(False)
    session = window.session
    gate = threading.Event()
    session._writer.submit(gate.wait, 20)
    painted = np.zeros_like(session.document.label)
    painted[5:15, 5:25] = 2
    session.document.set_label(painted)
    session.flush()  # the recovery copy of img1, queued behind the gate
    fake_dialogs.unsaved_answer = answer
    try:
        assert window.open_project(second)
        assert wait_loaded(window)
        before = _all_files(second)
    finally:
        gate.set()
    flush(window)
    assert _all_files(second) == before
    assert not (first / ".segstudio-recovery" / "img1.png").exists()
    if answer == "save":
        np.testing.assert_array_equal(read_mask(first / "img1.png"), painted)
    else:
        assert not (first / "img1.png").exists()
