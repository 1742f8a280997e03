"""Opening folders, moving through images, autosave, verification, failed saves, crash recovery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui_helpers import close, drag, flush, wait_loaded
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest

from segstudio.application.session import controller as session_module
from segstudio.core.errors import SaveError
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.project import Project


def paint(window, cls=1, y=20):
    window.select_class(cls)
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, y), (40, y)])


def test_open_folder_lists_images_and_shows_first(window, project_dir):
    assert window.file_dock.list.count() == 3
    assert window.session.index == 0
    assert window.windowTitle().startswith("img1.jpg (1/3)")
    assert window.canvas.image is not None and window.canvas.image.width() == 80
    assert window.status_labels["size"].text() == "80 × 60"
    assert window.class_dock.row_text(2)[0] == "dog"
    assert window.settings.recent_folders()[0] == str(project_dir.resolve())


def test_next_previous_autosave_and_reopen(window, make_window, project_dir):
    paint(window, cls=2)
    painted = window.session.document.label.copy()
    QTest.keyClick(window, Qt.Key.Key_D)
    wait_loaded(window)
    assert window.session.index == 1
    flush(window)
    on_disk = read_mask(project_dir / "img1.png")
    np.testing.assert_array_equal(on_disk, painted)
    assert window.file_dock.state_of(0) == "labelled"
    QTest.keyClick(window, Qt.Key.Key_A)
    wait_loaded(window)
    assert window.session.index == 0
    np.testing.assert_array_equal(window.session.document.label, painted)
    assert not window.session.dirty and "*" not in window.windowTitle()
    # A second window on the same folder finds the same mask.
    other = make_window(project_dir)
    np.testing.assert_array_equal(other.session.document.label, painted)


def test_stroke_reaches_disk_without_changing_image(window, project_dir, qtbot):
    paint(window)
    qtbot.waitUntil(lambda: (project_dir / "img1.png").exists() and not window.session.dirty, timeout=5000)
    assert read_mask(project_dir / "img1.png")[20, 20] == 1
    assert window.status_labels["save"].text() == "saved"


def test_space_toggles_verified_in_xml(window, project_dir):
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_Space)
    flush(window)
    assert 'verified="yes"' in (project_dir / "img1.xml").read_text()
    assert window.file_dock.state_of(0) == "verified"
    assert "[verified]" in window.windowTitle()
    window.actions["verify"].trigger()  # toggles back
    flush(window)
    assert 'verified="yes"' not in (project_dir / "img1.xml").read_text()


def test_failed_save_is_reported_once_and_edits_stay(window, project_dir, fake_dialogs, monkeypatch):
    def refuse(self, entry, label, verified=False):
        raise SaveError(f"cannot save {entry.mask_path}: Read-only file system")

    monkeypatch.setattr(Project, "save", refuse)
    paint(window, cls=3)
    painted = window.session.document.label.copy()
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    flush(window)
    assert fake_dialogs.names().count("error") == 1
    assert "Read-only" in fake_dialogs.calls[-1][1][2]
    assert window.session.dirty and window.windowTitle().startswith("*")
    assert "Save failed" in window.statusBar().currentMessage()
    assert window.status_labels["save"].text() == "save failed"
    # Moving on keeps the edits in memory; coming back shows them, still unsaved.
    QTest.keyClick(window, Qt.Key.Key_D)
    wait_loaded(window)
    flush(window)
    assert fake_dialogs.names().count("error") == 1  # told once, not on every retry
    QTest.keyClick(window, Qt.Key.Key_A)
    wait_loaded(window)
    np.testing.assert_array_equal(window.session.document.label, painted)
    assert window.session.dirty
    assert not (project_dir / "img1.png").exists()
    # Once saving works again, the edits reach the disk.
    monkeypatch.undo()
    window.save()
    flush(window)
    np.testing.assert_array_equal(read_mask(project_dir / "img1.png"), painted)
    assert not window.session.dirty


def test_os_error_while_writing_is_a_save_failure(window, project_dir, fake_dialogs, monkeypatch):
    import segstudio.core.masks as masks

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(masks, "write_mask", disk_full)
    paint(window)
    window.save()
    flush(window)
    assert "error" in fake_dialogs.names() and window.session.dirty


def test_recovery_copy_is_written_and_offered(window, make_window, project_dir, fake_dialogs, qtbot, monkeypatch):
    monkeypatch.setattr(session_module, "SAVE_DELAY_MS", 50)
    window.actions["autosave"].setChecked(False)
    assert not window.session.autosave
    paint(window, cls=2)
    painted = window.session.document.label.copy()
    recovery = project_dir / ".segstudio-recovery" / "img1.png"
    qtbot.waitUntil(recovery.exists, timeout=5000)
    assert not (project_dir / "img1.png").exists()  # autosave off: the mask itself is untouched
    np.testing.assert_array_equal(read_mask(recovery), painted)
    # "Crash": a new window opens the folder while the old one never saved (and its lock is gone).
    window.session.release_lock()
    fake_dialogs.restore_answer = True
    other = make_window(project_dir)
    assert "ask_restore" in fake_dialogs.names()
    np.testing.assert_array_equal(other.session.document.label, painted)
    assert other.session.dirty
    # The class counts are those of the restored mask, not of the empty one it replaced.
    qtbot.waitUntil(lambda: other.class_dock.row_text(2)[2] == _readable(int((painted == 2).sum())), timeout=5000)
    other.save()
    flush(other)
    assert not recovery.exists()
    np.testing.assert_array_equal(read_mask(project_dir / "img1.png"), painted)


def test_declined_recovery_is_discarded(window, make_window, project_dir, fake_dialogs, qtbot):
    window.actions["autosave"].setChecked(False)
    paint(window)
    window.session.flush()
    flush(window)
    recovery = project_dir / ".segstudio-recovery" / "img1.png"
    assert recovery.exists()
    fake_dialogs.restore_answer = False
    window.session.release_lock()  # "crash": the next window may write (see test_files above)
    other = make_window(project_dir)
    assert not other.session.document.label.any()
    assert not recovery.exists()


def test_autosave_off_asks_before_leaving(window, project_dir, fake_dialogs):
    window.actions["autosave"].setChecked(False)
    paint(window)
    fake_dialogs.unsaved_answer = "cancel"
    QTest.keyClick(window, Qt.Key.Key_D)
    wait_loaded(window)
    assert window.session.index == 0
    fake_dialogs.unsaved_answer = "discard"
    QTest.keyClick(window, Qt.Key.Key_D)
    wait_loaded(window)
    assert window.session.index == 1
    flush(window)
    assert not (project_dir / "img1.png").exists()


def test_file_filter_and_navigation_follow_the_list(window):
    paint(window)
    QTest.keyClick(window, Qt.Key.Key_D)
    wait_loaded(window)
    flush(window)
    dock = window.file_dock
    dock.state_box.setCurrentText("Unlabelled")
    assert dock.visible_indices() == [1, 2]
    dock.state_box.setCurrentText("Labelled")
    assert dock.visible_indices() == [0]
    dock.state_box.setCurrentText("All")
    dock.filter_edit.setText("img3")
    assert dock.visible_indices() == [2]
    dock.filter_edit.setText("")
    dock.list.itemClicked.emit(dock.list.item(2))
    assert wait_loaded(window) and window.session.index == 2
    assert dock.list.currentRow() == 2


def test_drop_folder_opens_it(window, tmp_path):
    from gui_project import make_project  # noqa: PLC0415

    other = make_project(tmp_path / "dropped", count=2)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert wait_loaded(window)
    assert window.session.project.image_dir == other.resolve()
    assert window.file_dock.list.count() == 2


def test_close_saves_and_persists_settings(window, project_dir, settings):
    paint(window)
    window.tools.set_brush_size(33)
    close(window)
    np.testing.assert_array_equal(read_mask(project_dir / "img1.png")[20, 10:41], 1)
    assert settings.get_int("tools/brush_size", 0) == 33
    assert settings.last_project()[0] == str(Path(project_dir).resolve())


def _readable(count: int) -> str:
    from segstudio.gui.docks.class_dock import format_count

    return format_count(count)


def test_unsaved_work_on_another_image_is_told_at_opening(window, make_window, project_dir, fake_dialogs, qtbot):
    window.actions["autosave"].setChecked(False)
    assert window.go(+1)  # img2
    assert wait_loaded(window)
    paint(window, cls=2)
    window.session.flush()
    flush(window)
    assert (project_dir / ".segstudio-recovery" / "img2.png").exists()
    window.session.release_lock()
    fake_dialogs.confirm_answer = True
    fake_dialogs.restore_answer = True
    other = make_window(project_dir)  # opens on img1, which has no copy
    assert any(name == "confirm" and "img2.jpg" in args[2] for name, args in fake_dialogs.calls)
    assert other.session.current.entry.image_path.name == "img2.jpg"
    assert other.session.document.label.any()  # the copy was offered there and restored


def test_undo_survives_switching_images(window, project_dir, qtbot):
    paint(window, cls=1, y=20)
    paint(window, cls=2, y=40)
    two_strokes = window.session.document.label.copy()
    assert window.go(+1) and wait_loaded(window)
    paint(window, cls=3, y=10)
    assert window.go(-1) and wait_loaded(window)
    np.testing.assert_array_equal(window.session.document.label, two_strokes)
    window.undo()  # the second stroke on img1, painted before the switch
    label = window.session.document.label
    assert (label == 2).sum() == 0 and (label == 1).sum() > 0
    window.undo()
    assert not window.session.document.label.any()
    window.redo()
    assert (window.session.document.label == 1).sum() > 0
    flush(window)
    np.testing.assert_array_equal(read_mask(project_dir / "img1.png"), window.session.document.label)


def test_undo_is_not_given_back_when_the_mask_changed_on_disk(window, project_dir, qtbot):
    paint(window, cls=1, y=20)
    assert window.go(+1) and wait_loaded(window)
    flush(window)
    changed = read_mask(project_dir / "img1.png")
    changed[:5] = 3  # another program edits the mask meanwhile
    write_mask(project_dir / "img1.png", changed)
    assert window.go(-1) and wait_loaded(window)
    np.testing.assert_array_equal(window.session.document.label, changed)
    assert not window.session.document.can_undo  # the old steps would not fit this map
