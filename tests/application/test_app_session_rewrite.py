"""A class rewrite as the session runs it, with no window: the queued saves first, progress on the
owner's thread, cancel and failure keep every file, a shut pool says "interrupted", and the open
image is renumbered in memory only when the files were."""

from __future__ import annotations

import hashlib

import numpy as np
from session_harness import Harness, make_project, paint

from segstudio.application import class_rewrite
from segstudio.core.masks import read_mask, write_mask


def sums(folder):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def labelled(tmp_path):
    folder = make_project(tmp_path / "p")
    stripes = np.zeros((30, 40), np.uint8)
    stripes[0:10], stripes[10:20] = 1, 2
    for stem in ("img1", "img2"):
        write_mask(folder / f"{stem}.png", stripes)
    return folder


def start(h, folder):
    h.session.open_project(folder)
    h.show(0)
    return h.session.project


def test_delete_rewrites_every_mask_after_the_queued_saves_and_renumbers_the_open_image(tmp_path):
    folder = labelled(tmp_path)
    h = Harness()
    project = start(h, folder)
    paint(h.session, 2)  # unsaved: its save is queued first, then rewritten with the others
    h.session.save_async()
    answers, progress = [], []
    new = project.classes.copy()
    lut = new.delete(1)
    h.session.rewrite_classes(new, lut, answers.append, lambda done, total: progress.append((done, total)))
    assert answers == [] and h.session.writes_held is False  # the save answers before the hold
    h.run()
    assert answers == [None] and progress == [(1, 2), (2, 2)]
    assert not h.session.writes_held
    assert (folder / "classes.txt").read_text() == "background\ndog\n"
    first = read_mask(folder / "img1.png")
    assert first[0, 0] == 0 and first[5, 5] == 1 and first[15, 15] == 1  # dog moved to 1, the stroke too
    assert h.session.document.label[5, 5] == 1 and h.session.document.label[15, 15] == 1


def test_cancel_and_failure_keep_every_file(tmp_path, monkeypatch):
    folder = labelled(tmp_path)
    h = Harness()
    project = start(h, folder)
    before = sums(folder)
    answers, asked = [], []
    old = project.classes
    new = project.classes.copy()
    lut = new.delete(1)
    h.session.rewrite_classes(new, lut, answers.append, None, lambda: asked.append(1) or len(asked) > 1)
    h.run()
    assert answers == [""] and sums(folder) == before  # cancelled after the first mask
    assert project.classes is old
    assert h.session.document.label[5, 5] == 1  # not renumbered: the files were not

    def broken(*args, **kwargs):
        raise ValueError("encoder bug")

    monkeypatch.setattr(class_rewrite, "encode_mask_png", broken)
    h.session.rewrite_classes(new, lut, answers.append)
    h.run()
    assert answers[-1] == "ValueError: encoder bug" and sums(folder) == before and project.classes is old


def test_a_shut_pool_answers_interrupted(tmp_path):
    folder = labelled(tmp_path)
    h = Harness()
    project = start(h, folder)
    before = sums(folder)
    h.pools.pool("class-rewrite").shutdown()
    answers = []
    new = project.classes.copy()
    h.session.rewrite_classes(new, new.delete(1), answers.append)
    h.run()
    assert answers == [class_rewrite.INTERRUPTED] and sums(folder) == before and not h.session.writes_held
