"""The project-wide class rewrite without a window: all or nothing, cancellable, and classes.txt
and project.json written by the core's own serialisers."""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segstudio.application import class_rewrite
from segstudio.application.class_rewrite import Cancelled, rewrite_project
from segstudio.core.classes import ClassList, class_file_text, save_class_file
from segstudio.core.errors import SaveError
from segstudio.core.masks import read_mask
from segstudio.core.project import Project


def _project(folder: Path, count: int = 3) -> Project:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(np.full((6, 8, 3), 40 * i, np.uint8)).save(folder / f"img{i}.jpg")
    save_class_file(folder / "classes.txt", ClassList(["background", "cat", "dog", "tree"]))
    project = Project(folder)
    for i, entry in enumerate(project.entries):
        label = np.zeros((6, 8), np.uint8)
        label[:2], label[2:4], label[4:, :4] = 1, 2, 3
        label[5, 7] = 255
        project.save(entry, np.roll(label, i, axis=1))
    return Project(folder)


def _sums(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_delete_rewrites_masks_xml_classes_and_record(tmp_path):
    project = _project(tmp_path / "p")
    before = {e.stem: read_mask(e.mask_path) for e in project.labelled_entries()}
    lut = project.classes.delete(1)
    assert rewrite_project(project, lut) == 3
    for entry in project.labelled_entries():
        assert (read_mask(entry.mask_path) == lut[before[entry.stem]]).all()
        assert "<name>cat</name>" not in entry.xml_path.read_text()
    assert (tmp_path / "p" / "classes.txt").read_text() == class_file_text(project.classes)
    recorded = json.loads(project.settings_path.read_text())
    assert list(recorded.values()).count(["background", "dog", "tree"]) == 1
    assert not list((tmp_path / "p").glob(".*.remap"))


def test_a_full_disk_halfway_changes_no_file(tmp_path, monkeypatch):
    project = _project(tmp_path / "p")
    before = _sums(tmp_path / "p")
    real, calls = class_rewrite.write_temporary, []

    def full_on_third(target, data, suffix):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(target, data, suffix)

    monkeypatch.setattr(class_rewrite, "write_temporary", full_on_third)
    with pytest.raises(SaveError, match="No space left"):
        rewrite_project(project, project.classes.delete(2))
    assert _sums(tmp_path / "p") == before  # no temporary left, nothing replaced


def test_cancel_before_the_renames_changes_no_file(tmp_path):
    project = _project(tmp_path / "p")
    before = _sums(tmp_path / "p")
    seen = []
    with pytest.raises(Cancelled):
        rewrite_project(project, project.classes.reorder([0, 2, 1, 3]), progress=lambda d, t: seen.append((d, t)),
                        should_stop=lambda: len(seen) == 2)
    assert seen == [(1, 3), (2, 3)]
    assert _sums(tmp_path / "p") == before


def test_a_rename_keeps_every_mask_byte(tmp_path):
    project = _project(tmp_path / "p")
    masks = {e.mask_path: e.mask_path.read_bytes() for e in project.labelled_entries()}
    project.classes.rename(1, "kitten")
    rewrite_project(project, class_rewrite.IDENTITY)
    assert {p: p.read_bytes() for p in masks} == masks
    assert all("<name>kitten</name>" in e.xml_path.read_text() for e in project.labelled_entries())
    assert (tmp_path / "p" / "classes.txt").read_text() == "background\nkitten\ndog\ntree\n"
