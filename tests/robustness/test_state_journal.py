"""A received project's rename journal can never rename, write or delete outside the save folder."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from segstudio.core import journal
from segstudio.core.errors import SaveError
from segstudio.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_project import make_project  # noqa: E402
from state_helpers import checksums, fake_dialogs, make_window, settings  # noqa: E402,F401


@pytest.fixture
def scene(tmp_path):
    """A project, and next to it an outside folder with files a hostile journal aims at."""
    project = make_project(tmp_path / "project")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("precious\n")
    (outside / "victim.png").write_bytes(b"not yours")
    (outside / ".victim.txt.abcdefgh.remap").write_text("evil\n")
    (outside / ".victim.png.abcdefgh.remap").write_text("evil\n")
    (project / "linked").symlink_to(outside, target_is_directory=True)
    return project, outside


def _hostile_journal(project: Path, outside: Path, kind: str) -> list[list[str]]:
    """A valid first entry (a real temporary for classes.txt), then the hostile one."""
    temp = project / ".classes.txt.k2j4h5g6.remap"
    temp.write_text("background\nreplaced\n")
    good = [temp.name, "classes.txt"]
    bad = {
        "absolute": [str(outside / ".victim.txt.abcdefgh.remap"), str(outside / "victim.txt")],
        "dotdot": ["../outside/.victim.txt.abcdefgh.remap", "../outside/victim.txt"],
        "symlinked-folder": ["linked/.victim.png.abcdefgh.remap", "linked/victim.png"],
        "symlinked-target": [".victim.png.abcdefgh.remap", "linked-file.png"],
        "foreign-temporary": ["linked/.victim.txt.abcdefgh.remap", "classes.txt"],
        "not-our-name": ["img1.jpg", "classes.txt"],
    }[kind]
    if kind == "symlinked-target":
        (project / "linked-file.png").symlink_to(outside / "victim.png")
        (project / ".victim.png.abcdefgh.remap").write_text("evil\n")
    entries = [good, bad]
    path = journal.journal_path(project)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"version": 1, "renames": entries}))
    return entries


KINDS = ["absolute", "dotdot", "symlinked-folder", "symlinked-target", "foreign-temporary", "not-our-name"]


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_journal_is_refused_whole_and_kept(scene, kind):
    project, outside = scene
    _hostile_journal(project, outside, kind)
    before = checksums(project, outside)
    with pytest.raises(journal.JournalRefused, match="refused, nothing was renamed"):
        Project(project)
    assert checksums(project, outside) == before  # all or nothing: not even the valid entry ran
    assert journal.journal_path(project).is_file()  # kept for inspection


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlinked-folder"])
def test_window_reports_the_refused_journal(scene, kind, make_window, fake_dialogs):
    project, outside = scene
    _hostile_journal(project, outside, kind)
    before = checksums(project, outside)
    window = make_window()
    assert not window.open_project(project)
    errors = [args for name, args in fake_dialogs.calls if name == "error"]
    assert len(errors) == 1 and "refused" in errors[0][2] and "kept" in errors[0][2]
    assert checksums(project, outside) == before


def test_stray_lookalikes_are_not_deleted(tmp_path):
    """Without a journal only plain files named like our temporaries are removed."""
    project = make_project(tmp_path / "project")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data").write_text("keep\n")
    ours = project / ".img1.png.abc123xy.remap"
    ours.write_bytes(b"half")
    old = time.time() - 3600  # a kill an hour ago (a fresh one may be another process's live save)
    os.utime(ours, (old, old))
    (project / ".notes.remap").write_text("a user's file\n")  # no random part: not ours
    (project / ".link.png.abc123xy.remap").symlink_to(outside / "data")
    (project / ".dir.png.abc123xy.remap").mkdir()
    before = checksums(outside)
    Project(project)
    assert not ours.exists()
    assert (project / ".notes.remap").is_file()
    assert (project / ".link.png.abc123xy.remap").is_symlink()
    assert (project / ".dir.png.abc123xy.remap").is_dir()
    assert checksums(outside) == before


def test_journal_through_a_linked_state_folder_is_not_read(tmp_path):
    """A ``.segstudio`` link to elsewhere: core never reads or deletes a journal through it."""
    project = make_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / journal.JOURNAL_NAME).write_text(json.dumps({"version": 1, "renames": []}))
    (project / journal.STATE_FOLDER).symlink_to(elsewhere, target_is_directory=True)
    before = checksums(elsewhere)
    with pytest.raises(SaveError, match="symbolic link"):
        Project(project)
    assert checksums(elsewhere) == before


def test_window_replaces_a_linked_state_folder_and_says_so(tmp_path, make_window, fake_dialogs):
    project = make_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / journal.JOURNAL_NAME).write_text(json.dumps({"version": 1, "renames": [["/etc/x", "/etc/y"]]}))
    (project / journal.STATE_FOLDER).symlink_to(elsewhere, target_is_directory=True)
    before = checksums(elsewhere)
    window = make_window(project)
    assert not (project / journal.STATE_FOLDER).is_symlink()
    assert "symbolic link" in window.session.open_warnings[0]
    assert checksums(elsewhere) == before


def test_a_real_interrupted_rewrite_still_finishes(tmp_path):
    project = make_project(tmp_path / "project")
    temp = project / f".classes.txt.{os.urandom(4).hex()}.remap"
    temp.write_text("background\nnew\n")
    journal.write_journal(project, [(temp, project / "classes.txt")])
    assert Project(project).classes.names == ["background", "new"]
    assert not journal.journal_path(project).exists()


def test_writing_a_journal_outside_is_refused(tmp_path):
    project = make_project(tmp_path / "project")
    with pytest.raises(journal.JournalRefused):
        journal.write_journal(project, [(tmp_path / ".x.abc.remap", tmp_path / "x")])
    assert not journal.journal_path(project).exists()
