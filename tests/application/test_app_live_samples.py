"""Live mode's samples: what the model learns from is always (image, labels) arrays, also when a
mask goes away while it is read (a mask removed between the listing and the read: Project.load_mask
then answers None, which the live trainer cannot learn from)."""

from __future__ import annotations

import numpy as np
from session_harness import H, W, make_project

from segstudio.application.live.live_session import LiveSession
from segstudio.core.masks import write_mask
from segstudio.core.project import Project


def _labelled_project(folder) -> Project:
    project = Project(make_project(folder))
    for entry in project.entries:
        write_mask(entry.mask_path, np.ones((H, W), np.uint8))
    return Project(folder)


def _no_trainer() -> None:
    raise AssertionError("samples() makes no trainer")


def test_the_labelled_masks_are_the_samples(tmp_path) -> None:
    session = LiveSession(_labelled_project(tmp_path / "p"), _no_trainer)
    pairs = session.samples(None, None, None)
    assert len(pairs) == 3
    assert all(rgb.shape == (H, W, 3) and label.shape == (H, W) for rgb, label in pairs)


def test_a_mask_removed_while_it_is_read_is_left_out(tmp_path) -> None:
    project = _labelled_project(tmp_path / "p")
    read = project.load_mask

    def removed_meanwhile(entry):  # the file goes after it was listed and its time read
        entry.mask_path.unlink()
        return read(entry)

    project.load_mask = removed_meanwhile
    session = LiveSession(project, _no_trainer)
    screen = (np.zeros((H, W, 3), np.uint8), np.ones((H, W), np.uint8))
    assert session.samples(None, None, None) == []
    pairs = session.samples(project.entries[0].image_path, *screen)
    assert len(pairs) == 1 and pairs[0][0] is screen[0] and pairs[0][1] is screen[1]
