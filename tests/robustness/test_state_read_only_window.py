"""A window on an image that another window edits (read-only) accepts no edit at all, so no stroke
can be dropped unseen when the image changes or the window closes; it writes nothing, the prediction
cache and mask repairs included."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import close, drag, flush
from gui_project import make_project
from state_helpers import checksums, fake_dialogs, make_window, settings  # noqa: F401

from segstudio.core.errors import SegStudioError
from segstudio.core.geometry import Rect
from segstudio.core.masks import write_mask


def strokes(window, count: int, cls: int = 2) -> None:
    window.select_class(cls)
    window.tools.set_brush_size(7)
    for i in range(count):
        y = 5 + (i * 7) % 50
        drag(window.canvas, [(5 + i % 20, y), (30 + i % 40, y + 3), (60, y + 6)])


def test_read_only_window_refuses_every_edit_and_loses_nothing(tmp_path, make_window, fake_dialogs):
    folder = make_project(tmp_path / "project")
    first = make_window(folder)
    strokes(first, 3, cls=1)
    first.save()
    flush(first)
    before = checksums(folder)
    second = make_window(folder)
    assert second.session.taken
    shown = second.session.document.label.copy()
    strokes(second, 200)  # painted for real: every stroke refused, none kept to be dropped later
    second.undo()
    assert np.array_equal(second.session.document.label, shown)
    assert not second.session.dirty
    assert not second.actions["undo"].isEnabled() and not second.actions["save"].isEnabled()
    assert "painting is off" in second.statusBar().toolTip()
    assert second.session.document.paint(Rect(0, 0, 4, 4), np.ones((4, 4), bool), 2) is None
    second.session.flush()
    flush(second)
    close(second)
    assert checksums(folder) == before
    close(first)


def test_read_only_window_does_not_repair_a_mask(tmp_path, make_window, fake_dialogs):
    folder = make_project(tmp_path / "project")
    write_mask(folder / "img1.png", np.full((60, 80), 9, np.uint8))  # values that are no class: a repair is due
    first = make_window(folder)
    fake_dialogs.calls.clear()
    before = checksums(folder)
    second = make_window(folder)
    assert second.session.taken and second.session.mask_blocked
    assert not any(name == "ask_mask_repair" for name, _ in fake_dialogs.calls)
    with pytest.raises(SegStudioError, match="read-only"):
        second.session.repair_mask(second.session.current.mask_problem.repairs[0])
    assert checksums(folder) == before
    close(first)
