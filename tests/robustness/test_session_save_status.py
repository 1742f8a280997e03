"""The save status tells the truth: "saved" soon after every save (the writer's result is delivered
after its future is done), "save failed" with the reason for every failed write (never "saving…"
forever), and class names that cannot be written are refused where they are entered."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gui_helpers  # noqa: E402
from gui_helpers import flush  # noqa: E402
from session_helpers import checksums, fake_dialogs, make_project, make_window, settings, sha256  # noqa: E402,F401

from segstudio.core.masks import read_mask  # noqa: E402
from segstudio.core.project import Project  # noqa: E402
from segstudio.core.voc_xml import read_annotation  # noqa: E402


def _state(window) -> str:
    return window.status_labels["save"].text()


def _paint(window, i: int) -> None:
    x = 5 + (i * 7) % 60
    gui_helpers.drag(window.canvas, [(x, 10), (x + 3, 20)])


@pytest.fixture
def slow_done_marking(monkeypatch):
    """Delay marking a future done by 30 ms: the old writer signalled from inside the job, so the
    GUI looked at a future not yet done and stayed at "saving…"; this made that happen every time."""
    original = concurrent.futures.Future.set_result

    def slow(self, result):
        time.sleep(0.03)
        original(self, result)

    monkeypatch.setattr(concurrent.futures.Future, "set_result", slow)


def test_status_is_saved_after_each_of_50_saves(tmp_path, make_window, qtbot, slow_done_marking):
    window = make_window(make_project(tmp_path / "images", count=1))
    for i in range(50):
        _paint(window, i)
        if i % 2:
            window.actions["save"].trigger()  # Ctrl+S
        else:
            window.canvas.space_tapped.emit()  # Space (verify toggles and saves)
        qtbot.waitUntil(lambda: _state(window) == "saved", timeout=3000)
    assert not window.session.dirty
    assert read_mask(tmp_path / "images" / "img1.png").max() > 0


def test_failed_xml_write_ends_in_save_failed_with_reason(tmp_path, make_window, qtbot, fake_dialogs):
    folder = make_project(tmp_path / "images", count=1)
    (folder / "img1.xml").mkdir()  # the XML cannot be written there
    window = make_window(folder)
    failures = []
    window.session.save_failed.connect(failures.append)
    _paint(window, 0)
    window.actions["save"].trigger()
    flush(window)
    qtbot.waitUntil(lambda: _state(window) == "save failed", timeout=3000)
    assert failures and "img1.xml" in failures[0]
    assert "img1.xml" in window.statusBar().toolTip()
    assert window.session.dirty  # the edits are kept; saving again once the folder is fixed works
    (folder / "img1.xml").rmdir()
    window.actions["save"].trigger()
    qtbot.waitUntil(lambda: _state(window) == "saved", timeout=3000)
    assert read_annotation(folder / "img1.xml").segmented


def test_unexpected_write_error_is_reported_not_hung(tmp_path, make_window, qtbot, monkeypatch):
    window = make_window(make_project(tmp_path / "images", count=1))

    def broken(*args, **kwargs):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(Project, "save", broken)
    _paint(window, 0)
    window.actions["save"].trigger()
    qtbot.waitUntil(lambda: _state(window) == "save failed", timeout=3000)
    assert "encoder exploded" in window.statusBar().toolTip()


def test_unwritable_class_name_fails_before_the_mask_is_written(tmp_path, make_window, qtbot):
    """A name that slipped past validation (here: put in memory directly) stops the whole save:
    mask and XML stay consistent (both untouched) and the status says why."""
    folder = make_project(tmp_path / "images", count=1)
    window = make_window(folder)
    window.session.project.classes.names[1] = "ca\x01t"
    window.tools.current_class = 1
    _paint(window, 0)
    window.actions["save"].trigger()
    qtbot.waitUntil(lambda: _state(window) == "save failed", timeout=3000)
    assert "U+0001" in window.statusBar().toolTip()
    assert not (folder / "img1.png").exists() and not (folder / "img1.xml").exists()


@pytest.mark.parametrize("name", ["bad\x01name", "two\nlines", "tab\tbed", " cat", "dog ", "cat", ""])
def test_bad_class_name_is_refused_at_entry(tmp_path, make_window, fake_dialogs, name):
    folder = make_project(tmp_path / "images", count=1)
    window = make_window(folder)
    before = (folder / "classes.txt").read_bytes()
    fake_dialogs.text_answer = name or None
    assert window.class_editor.add() is None
    assert not window.class_editor.rename(2)
    assert (folder / "classes.txt").read_bytes() == before
    assert window.session.project.classes.names == ["background", "cat", "dog", "tree"]
    if name:
        assert fake_dialogs.names().count("error") == 2  # one clear message each time


def test_class_file_with_control_character_is_refused_on_open(tmp_path, make_window, fake_dialogs):
    folder = make_project(tmp_path / "images", count=1)
    (folder / "classes.txt").write_bytes(b"background\ncat\x07\ndog\n")
    before = checksums(folder)
    window = make_window()
    assert not window.open_project(folder)
    (title, args), = [c for c in fake_dialogs.calls if c[0] == "error"]
    assert "line 2" in args[2] and "U+0007" in args[2]
    assert checksums(folder) == before


def test_class_file_spaces_are_reported(tmp_path):
    folder = make_project(tmp_path / "images", count=1)
    (folder / "classes.txt").write_text("background\ncat \ndog\n")
    project = Project(folder)
    assert project.classes.names == ["background", "cat", "dog"]
    assert any("spaces around 'cat'" in w for w in project.class_warnings)


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8 need a byte file system")
def test_file_name_that_is_not_utf8_saves_mask_and_xml(tmp_path, make_window, qtbot):
    folder = make_project(tmp_path / "images", count=1)
    os.rename(folder / "img1.jpg", os.fsdecode(bytes(folder) + b"/img\xff.jpg"))
    window = make_window(folder)
    _paint(window, 0)
    window.actions["save"].trigger()
    qtbot.waitUntil(lambda: _state(window) == "saved", timeout=3000)
    mask = Path(os.fsdecode(bytes(folder) + b"/img\xff.png"))
    xml = Path(os.fsdecode(bytes(folder) + b"/img\xff.xml"))
    assert read_mask(mask).max() > 0
    assert read_annotation(xml).filename == "img\ufffd.jpg"
