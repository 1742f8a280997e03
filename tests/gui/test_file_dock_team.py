"""The file list shows who is on what: an image another window edits is greyed, in italics, with the
person's name after it (and the score suffix of the uncertainty sort is kept)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from segstudio.gui.docks.file_dock import FileDock


def project(names):
    entries = [SimpleNamespace(image_path=Path("/photos") / n) for n in names]
    return SimpleNamespace(entries=entries, is_verified=lambda e: False, is_labelled=lambda e: False)


def test_claimed_images_show_their_editor(qtbot):
    dock = FileDock()
    qtbot.addWidget(dock)
    dock.set_project(project(["a.jpg", "b.jpg", "c.jpg"]))
    dock.set_order([2, 0, 1], {2: "   (0.90)"})
    dock.set_claimed({2: "alice since 10:42"})
    item = dock._items[2]
    assert item.text() == "c.jpg   (0.90)  \u2014 alice" and item.font().italic()
    assert "edited by alice since 10:42" in item.toolTip()
    dock.set_order([2, 0, 1], {2: "   (0.80)"})  # a new score keeps the name
    assert item.text() == "c.jpg   (0.80)  \u2014 alice"
    dock.set_claimed({})
    assert item.text() == "c.jpg   (0.80)" and not item.font().italic() and "edited" not in item.toolTip()
    assert dock.displayed_indices() == [2, 0, 1]
