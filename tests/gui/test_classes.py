"""Class editing keeps every mask of the project consistent with the class list."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import close, flush, settle

from segstudio.application import class_rewrite
from segstudio.core.classes import load_class_file
from segstudio.core.errors import SaveError
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.project import Project


@pytest.fixture
def labelled_dir(project_dir):
    """img1: classes 1, 2, 3 in stripes; img2: class 3 and ignore; img3 unlabelled."""
    project = Project(project_dir)
    first = np.zeros((60, 80), np.uint8)
    first[0:10], first[10:20], first[20:30] = 1, 2, 3
    second = np.zeros((60, 80), np.uint8)
    second[:, :20], second[:, 70:] = 3, 255
    project.save(project.entries[0], first)
    project.save(project.entries[1], second)
    return project_dir


def test_delete_class_rewrites_every_mask(make_window, labelled_dir, fake_dialogs):
    window = make_window(labelled_dir)
    window.select_class(3)
    assert window.class_editor.delete(2)
    settle(window)
    assert "confirm" in fake_dialogs.names()
    first, second = read_mask(labelled_dir / "img1.png"), read_mask(labelled_dir / "img2.png")
    assert (first[0:10] == 1).all() and (first[10:20] == 0).all() and (first[20:30] == 2).all()
    assert (second[:, :20] == 2).all() and (second[:, 70:] == 255).all()
    classes, _ = load_class_file(labelled_dir / "classes.txt")
    assert classes.names == ["background", "cat", "tree"]
    assert "dog" not in (labelled_dir / "img1.xml").read_text()
    # The open image shows the rewritten mask, and the tree class is still selected.
    np.testing.assert_array_equal(window.session.document.label, first)
    assert window.tools.current_class == 2
    assert window.class_dock.row_text(2)[0] == "tree"
    assert not list(labelled_dir.glob(".*.remap"))


def test_delete_remaps_the_open_image_and_its_undo_history(make_window, labelled_dir):
    """Autosave off: the open image is remapped in memory (not saved), with its unsaved edits, and
    its undo history is renumbered too, so undo never brings back a number the classes lost."""
    window = make_window(labelled_dir)
    window.actions["autosave"].setChecked(False)
    window.select_class(2)
    window.tools.set_brush_size(3)
    from gui_helpers import click

    click(window.canvas, 50, 50)
    document = window.session.document
    assert window.class_editor.delete(1)
    settle(window)
    assert window.session.document is document  # not reloaded: the undo history is kept
    assert document.label[50, 50] == 1 and (document.label[0:10] == 0).all()  # dog -> 1, cat -> 0
    assert document.dirty
    on_disk = read_mask(labelled_dir / "img1.png")
    assert on_disk[50, 50] == 0 and (on_disk[20:30] == 2).all()  # the saved mask remapped, no forced save
    window.undo()  # the click (the remap is no undo step of its own)
    assert document.label[50, 50] == 0
    assert set(np.unique(document.label).tolist()) <= {0, 1, 2}  # only classes that still exist
    window.redo()
    assert document.label[50, 50] == 1  # redo repaints "dog" under its new number
    window.save()
    flush(window)
    assert read_mask(labelled_dir / "img1.png")[50, 50] == 1


def test_delete_with_autosave_saves_the_remapped_image(make_window, labelled_dir, qtbot, monkeypatch):
    from segstudio.application.session import controller as session_module

    monkeypatch.setattr(session_module, "SAVE_DELAY_MS", 20)
    window = make_window(labelled_dir)
    window.select_class(2)
    window.tools.set_brush_size(3)
    from gui_helpers import click

    click(window.canvas, 50, 50)
    assert window.class_editor.delete(1)
    settle(window)
    qtbot.waitUntil(lambda: not window.session.dirty, timeout=5000)
    flush(window)
    assert read_mask(labelled_dir / "img1.png")[50, 50] == 1


def test_declined_delete_changes_nothing(make_window, labelled_dir, fake_dialogs):
    window = make_window(labelled_dir)
    fake_dialogs.confirm_answer = False
    before = read_mask(labelled_dir / "img1.png")
    assert not window.class_editor.delete(1)
    np.testing.assert_array_equal(read_mask(labelled_dir / "img1.png"), before)
    assert window.session.project.classes.names[1] == "cat"


def test_rename_keeps_pixels_and_updates_xml(make_window, labelled_dir, fake_dialogs):
    window = make_window(labelled_dir)
    before = read_mask(labelled_dir / "img1.png")
    fake_dialogs.text_answer = "kitten"
    assert window.class_editor.rename(1)
    settle(window)
    np.testing.assert_array_equal(read_mask(labelled_dir / "img1.png"), before)
    assert load_class_file(labelled_dir / "classes.txt")[0].names[1] == "kitten"
    xml = (labelled_dir / "img1.xml").read_text()
    assert "<name>kitten</name>" in xml and "<name>cat</name>" not in xml
    assert window.class_dock.row_text(1)[0] == "kitten"


def test_move_down_swaps_indices_in_masks(make_window, labelled_dir):
    window = make_window(labelled_dir)
    assert window.class_editor.move(1, +1)
    settle(window)
    first = read_mask(labelled_dir / "img1.png")
    assert (first[0:10] == 2).all() and (first[10:20] == 1).all() and (first[20:30] == 3).all()
    assert load_class_file(labelled_dir / "classes.txt")[0].names[:3] == ["background", "dog", "cat"]


def test_add_and_recolour(make_window, labelled_dir, fake_dialogs):
    window = make_window(labelled_dir)
    fake_dialogs.text_answer = "bird"
    assert window.class_editor.add() == 4
    assert load_class_file(labelled_dir / "classes.txt")[0].names[-1] == "bird"
    assert window.tools.current_class == 4
    fake_dialogs.colour_answer = (10, 200, 30)
    assert window.class_editor.recolour(1)
    # The overlay uses the new colour right away (premultiplied in the QImage buffer).
    buffer = window.mask_layer._buffer
    assert buffer[5, 5, 3] == 255 and buffer[5, 5, 1] == 200


def test_visibility_toggle_hides_a_class(make_window, labelled_dir):
    from PySide6.QtCore import Qt

    window = make_window(labelled_dir)
    item = window.class_dock.tree.topLevelItem(2)
    item.setCheckState(0, Qt.CheckState.Unchecked)
    buffer = window.mask_layer._buffer
    assert buffer[15, 5, 3] == 0 and buffer[5, 5, 3] > 0


def test_pixel_counts(make_window, labelled_dir):
    window = make_window(labelled_dir)
    assert window.class_dock.row_text(1)[2] == "800"
    assert window.class_dock.row_text(0)[2] == "2.4 k"


def test_rewrite_failure_leaves_everything_as_it_was(labelled_dir, monkeypatch):
    project = Project(labelled_dir)
    before = [read_mask(labelled_dir / f"img{i}.png") for i in (1, 2)]
    write_mask(labelled_dir / "img2.png", before[1])
    calls = {"n": 0}
    real = class_rewrite.encode_mask_png

    def fail_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(class_rewrite, "encode_mask_png", fail_second)
    project.classes.delete(1)
    with pytest.raises(SaveError):
        class_rewrite.rewrite_project(project, np.arange(256, dtype=np.uint8)[::-1].copy())
    for i, expected in zip((1, 2), before):
        np.testing.assert_array_equal(read_mask(labelled_dir / f"img{i}.png"), expected)
    assert not list(labelled_dir.glob(".*.remap"))
    assert load_class_file(labelled_dir / "classes.txt")[0].names[1] == "cat"


def test_recolour_survives_reopening_and_reaches_the_mask_palette(make_window, labelled_dir, fake_dialogs):
    import json

    from gui_helpers import click
    from PIL import Image

    window = make_window(labelled_dir)
    fake_dialogs.colour_answer = (10, 200, 30)
    assert window.class_editor.recolour(2)
    settings = json.loads((labelled_dir / ".segstudio" / "project.json").read_text())
    assert settings["class_colours"] == {"dog": "#0ac81e"}
    assert (labelled_dir / "classes.txt").read_text() == "background\ncat\ndog\ntree\n"  # names only
    window.select_class(2)
    click(window.canvas, 60, 50)
    window.save()
    flush(window)
    palette = Image.open(labelled_dir / "img1.png").getpalette()
    assert palette[6:9] == [10, 200, 30]
    close(window)  # one window writes a project at a time (the project lock)
    other = make_window(labelled_dir)
    assert other.session.project.classes.colours[2] == (10, 200, 30)
    # The colour follows the class through a rename and a reorder.
    fake_dialogs.text_answer = "hound"
    assert other.class_editor.rename(2)
    settle(other)
    assert other.class_editor.move(2, -1)
    settle(other)
    close(other)
    again = make_window(labelled_dir)
    classes = again.session.project.classes
    assert classes.names[1] == "hound" and classes.colours[1] == (10, 200, 30)


def test_rename_and_add_touch_no_mask_and_no_undo_history(make_window, labelled_dir, fake_dialogs):
    from gui_helpers import click

    window = make_window(labelled_dir)
    window.actions["autosave"].setChecked(False)
    window.select_class(3)
    window.tools.set_brush_size(3)
    click(window.canvas, 50, 50)
    document = window.session.document
    mask_bytes = (labelled_dir / "img1.png").read_bytes()
    fake_dialogs.text_answer = "kitten"
    assert window.class_editor.rename(1)
    settle(window)
    fake_dialogs.text_answer = "bird"
    assert window.class_editor.add() == 4
    assert window.session.document is document and document.dirty and document.can_undo
    assert document.label[50, 50] == 3
    assert (labelled_dir / "img1.png").read_bytes() == mask_bytes
    assert "<name>kitten</name>" in (labelled_dir / "img1.xml").read_text()
    window.undo()
    assert document.label[50, 50] == 0


def test_crash_during_the_renames_is_finished_on_next_open(labelled_dir, monkeypatch):
    from segstudio.core import journal

    project = Project(labelled_dir)
    old_second = read_mask(labelled_dir / "img2.png")

    class Crash(BaseException):
        pass

    def crash_after_first(save_dir, renames):
        temp, target = renames[0]
        import os

        os.replace(temp, target)
        raise Crash()

    monkeypatch.setattr(class_rewrite, "apply_renames", crash_after_first)
    lut = project.classes.delete(1)
    with pytest.raises(Crash):
        class_rewrite.rewrite_project(project, lut)
    assert journal.journal_path(labelled_dir).is_file()
    np.testing.assert_array_equal(read_mask(labelled_dir / "img2.png"), old_second)  # not renamed yet
    monkeypatch.undo()
    reopened = Project(labelled_dir)
    assert reopened.recovered_files > 0
    assert not journal.journal_path(labelled_dir).exists()
    assert not list(labelled_dir.glob(".*.remap"))
    assert reopened.classes.names == ["background", "dog", "tree"]
    first, second = read_mask(labelled_dir / "img1.png"), read_mask(labelled_dir / "img2.png")
    assert (first[0:10] == 0).all() and (first[10:20] == 1).all() and (first[20:30] == 2).all()
    assert (second[:, :20] == 2).all() and (second[:, 70:] == 255).all()
    assert "<name>cat</name>" not in (labelled_dir / "img1.xml").read_text()


def test_pixel_counts_read_at_a_glance():
    from segstudio.gui.docks.class_dock import format_count

    assert [format_count(n) for n in (0, 950, 18_557, 154_321, 1_600_000, 24_049_999, 3_000_000_000)] == [
        "0", "950", "18.6 k", "154 k", "1.6 M", "24.0 M", "3.0 G"]


def test_reordered_classes_keep_their_colours_also_after_reopening(make_window, labelled_dir):
    window = make_window(labelled_dir)
    before = dict(zip(window.session.project.classes.names, window.session.project.classes.colours))
    assert window.class_editor.move(1, +1)
    settle(window)
    classes = window.session.project.classes
    assert dict(zip(classes.names, classes.colours)) == before
    flush(window)
    reopened = Project(labelled_dir)
    assert dict(zip(reopened.classes.names, reopened.classes.colours)) == before


def test_rename_keeps_the_class_list_where_it_was(make_window, tmp_path, fake_dialogs):
    """A rename rebuilds the list: the selected class and the scroll position stay (no jump to the
    top that puts another class under the pointer)."""
    from gui_project import make_project

    names = ["background"] + [f"class {i}" for i in range(1, 30)]
    window = make_window(make_project(tmp_path / "many", classes=names))
    tree = window.class_dock.tree
    window.select_class(25)
    bar = tree.verticalScrollBar()
    assert bar.maximum() > 0, "the list must scroll for this test"
    tree.scrollToItem(tree.currentItem(), tree.ScrollHint.PositionAtCenter)  # not at an edge of the view
    scrolled = bar.value()
    assert scrolled > 0
    fake_dialogs.text_answer = "class 25 renamed"
    assert window.class_editor.rename(25)
    settle(window)
    assert window.class_dock.current_value() == 25 and window.tools.current_class == 25
    assert window.class_dock.row_text(25)[0] == "class 25 renamed"
    assert bar.value() == scrolled
    # a recolour (another rebuild) of a class scrolled into view keeps it too
    window.class_dock.set_classes(window.session.project.classes)
    assert window.class_dock.current_value() == 25 and bar.value() == scrolled
