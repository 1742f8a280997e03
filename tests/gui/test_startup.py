"""Start-up: platform checks before Qt, command-line arguments, the demo project, menus and help."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import wait_loaded  # noqa: E402

from segstudio import app
from segstudio.core.errors import SaveError
from segstudio.core.project import Project
from segstudio.gui.window import demo, qt_env


def test_no_display_message():
    message = qt_env.platform_problem({}, "linux", find=lambda name: "lib.so")
    assert "DISPLAY" in message and "QT_QPA_PLATFORM=offscreen" in message


def test_missing_xcb_libraries_named_with_apt_hint():
    present = {"xcb-icccm", "xcb-keysyms"}
    message = qt_env.platform_problem({"DISPLAY": ":0"}, "linux", find=lambda n: "x.so" if n in present else None)
    assert message.startswith("Qt's xcb platform plugin needs system libraries that are missing: ")
    assert "libxcb-cursor.so.0" in message and "libxkbcommon-x11.so.0" in message
    assert "libxcb-icccm.so.4" not in message
    assert qt_env.APT_HINT in message


def test_explicit_platform_or_other_os_is_not_checked():
    assert qt_env.platform_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", find=lambda n: None) is None
    assert qt_env.platform_problem({}, "darwin", find=lambda n: None) is None
    assert qt_env.platform_problem({"DISPLAY": ":0"}, "linux", find=lambda n: "x.so") is None


def test_main_exits_1_without_display(monkeypatch, capsys):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(qt_env.sys, "platform", "linux")
    assert app.main([]) == 1
    assert "DISPLAY" in capsys.readouterr().err


def test_arguments_follow_labelimg_order():
    args = app.parse_args(["imgs", "classes.txt", "out"])
    assert (args.image_dir, args.class_file, args.save_dir) == ("imgs", "classes.txt", "out")
    assert app.parse_args([]).image_dir is None


def test_demo_is_bundled_and_copied_once(tmp_path):
    assert demo.bundled_demo() is not None
    target = demo.ensure_demo_copy(tmp_path / "demo")
    project = Project(target)
    assert len(project.entries) >= 5 and len(project.labelled_entries()) == 3
    assert len(project.classes) > 3
    mask = project.load_mask(project.labelled_entries()[0])
    assert len(np.unique(mask)) >= 4
    (target / "scene_01.png").unlink()  # the user's changes are never undone by a later start
    demo.ensure_demo_copy(target)
    assert not (target / "scene_01.png").exists()


def test_startup_without_arguments_opens_last_folder_then_demo(make_window, project_dir, settings, tmp_path,
                                                               monkeypatch):
    monkeypatch.setattr(demo, "user_demo_folder", lambda: tmp_path / "userdemo")
    window = make_window()
    assert window.open_startup()  # nothing remembered: the demo
    assert wait_loaded(window)
    assert window.session.project.image_dir == (tmp_path / "userdemo").resolve()
    window.open_project(project_dir)
    window.show_image(2)
    assert wait_loaded(window)
    window.save_settings()
    again = make_window()
    assert again.open_startup()
    assert wait_loaded(again)
    assert again.session.project.image_dir == project_dir.resolve() and again.session.index == 2


def test_startup_with_save_dir_and_class_file(make_window, project_dir, tmp_path):
    class_file = tmp_path / "predefined.txt"
    class_file.write_text("person\nbike\n")
    (project_dir / "classes.txt").unlink()
    window = make_window()
    assert window.open_startup(str(project_dir), str(class_file), str(tmp_path / "out"))
    assert wait_loaded(window)
    assert window.session.project.classes.names == ["background", "person", "bike"]
    assert window.session.project.save_dir == (tmp_path / "out").resolve()
    assert "background" in window.statusBar().toolTip()  # the inserted-background warning (whole; the bar may cut it)


def test_every_menu_action_shows_its_shortcut(window):
    texts = {a.text().replace("&", ""): a.shortcut().toString() for a in window.actions.all()}
    expected = {"Next image": "D", "Previous image": "A", "Verify image": "Space", "Save": "Ctrl+S",
                "Open folder…": "Ctrl+U", "Change save folder…": "Ctrl+R", "Undo": "Ctrl+Z",
                "Redo": "Ctrl+Y", "Brush": "B", "Eraser": "E", "Polygon": "P", "Rectangle": "R",
                "Fill": "F", "Ignore brush": "I", "Keyboard shortcuts": "F1", "Class 1": "1"}
    for text, shortcut in expected.items():
        assert texts[text] == shortcut, text
    menus = [m.title().replace("&", "") for m in window.actions.menus.values()]
    assert menus[:3] == ["File", "Edit", "View"] and "Tools" in menus and menus[-1] == "Help"
    shortcuts = [s for a in window.actions.all() for s in a.shortcuts()]
    assert len(shortcuts) == len({s.toString() for s in shortcuts})  # no ambiguous shortcut


def test_shortcut_dialog_lists_actions(window):
    from PySide6.QtWidgets import QTableWidget

    from segstudio.gui.window.dialogs import ShortcutsDialog

    dialog = ShortcutsDialog(window.actions.all(), window)
    table = dialog.findChild(QTableWidget)
    keys = {table.item(r, 0).text() for r in range(table.rowCount())}
    assert {"D", "A", "Space", "Ctrl+Z", "Alt+click"} <= keys


def test_pyside_in_use_keeps_reference_counts():
    """The suite runs on the PySide6 that pyproject admits: a release that corrupts reference
    counts (6.12.0 on Python 3.11) must be caught here, not by a user's crash."""
    assert qt_env.pyside_refcount_problem() is None


class _NoStandardPaths:
    """Qt's standard paths where it finds no home folder either."""

    StandardLocation = demo.QStandardPaths.StandardLocation

    @staticmethod
    def writableLocation(location):
        return ""


def test_startup_without_a_home_folder_opens_an_empty_window(make_window, monkeypatch):
    monkeypatch.setattr(demo, "QStandardPaths", _NoStandardPaths)
    monkeypatch.setattr(demo, "home_folder", lambda: None)  # HOME unset, no account entry
    window = make_window()
    assert not window.open_startup()  # said in the status bar, not a crash
    assert "no home folder" in window.statusBar().toolTip()  # whole (the bar may shorten it)
    assert window.session.project is None


def test_demo_copy_that_cannot_be_written_is_a_save_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SaveError, match="cannot copy the demo project to"):
        demo.ensure_demo_copy(tmp_path / "file" / "demo")


def test_names_windows_and_macos_would_merge_are_said_when_the_window_opens_them(make_window, tmp_path):
    from PIL import Image
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("Cat.jpg", "cat.jpg", "CON.jpg"):
        Image.new("RGB", (40, 30)).save(folder / name)
    window = make_window(folder)
    message = window.statusBar().toolTip()  # whole (the bar may shorten it)
    assert "Cat.jpg and cat.jpg have names that differ only by upper and lower case" in message
    assert "CON.jpg: CON is a device name on Windows" in message
    assert window.file_dock.list.count() == 3  # listed, not merged
