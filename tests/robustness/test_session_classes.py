"""The class list changed between sessions (reordered, a line removed, another class file given on
the command line): the window says so and offers to remap the masks by name or to keep the recorded
list; masks are never silently reinterpreted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_helpers import flush  # noqa: E402
from session_helpers import SIZE, fake_dialogs, make_project, make_window, settings, sha256  # noqa: E402,F401

from segstudio.core.masks import read_mask  # noqa: E402
from segstudio.core.project import Project  # noqa: E402
from segstudio.core.voc_xml import read_annotation  # noqa: E402

NAMES = ["background", "cat", "dog", "tree"]
REGIONS = {"cat": (slice(0, 10), slice(0, 10)), "dog": (slice(20, 30), slice(20, 30)),
           "tree": (slice(40, 50), slice(40, 50))}


def _labelled_project(tmp_path: Path) -> Path:
    """Two images, the first labelled with one square per class, saved by the app (records the list)."""
    folder = make_project(tmp_path / "images", count=2)
    project = Project(folder)
    label = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    for name, region in REGIONS.items():
        label[region] = NAMES.index(name)
    project.save(project.entries[0], label)
    return folder


def _names_by_region(folder: Path, names: list[str]) -> dict[str, str]:
    label = read_mask(folder / "img1.png")
    return {name: (names[label[region][0, 0]] if label[region][0, 0] != 255 else "ignore")
            for name, region in REGIONS.items()}


def _xml_names(folder: Path) -> list[str]:
    return sorted(o.name for o in read_annotation(folder / "img1.xml").objects)


def _recorded(folder: Path) -> list[str]:
    return json.loads((folder / ".segstudio" / "project.json").read_text())["class_list"]


def test_save_records_the_class_list(tmp_path):
    folder = _labelled_project(tmp_path)
    assert _recorded(folder) == NAMES


def test_reordered_remap_keeps_each_pixels_class_name(tmp_path, make_window, fake_dialogs):
    folder = _labelled_project(tmp_path)
    new = ["background", "tree", "cat", "dog"]
    (folder / "classes.txt").write_text("\n".join(new) + "\n")
    fake_dialogs.mismatch_answer = "remap"
    window = make_window(folder)
    assert "ask_class_mismatch" in fake_dialogs.names()
    assert _names_by_region(folder, new) == {"cat": "cat", "dog": "dog", "tree": "tree"}
    assert (folder / "classes.txt").read_text().split() == new
    assert _recorded(folder) == new
    assert window.session.project.classes.names == new
    window.canvas.space_tapped.emit()  # verify rewrites the XML: the names must still be right
    flush(window)
    assert _xml_names(folder) == ["cat", "dog", "tree"]


def test_reordered_use_recorded_rewrites_classes_txt(tmp_path, make_window, fake_dialogs):
    folder = _labelled_project(tmp_path)
    mask_sum = sha256(folder / "img1.png")
    (folder / "classes.txt").write_text("background\ntree\ncat\ndog\n")
    fake_dialogs.mismatch_answer = "recorded"
    window = make_window(folder)
    assert "ask_class_mismatch" in fake_dialogs.names()
    assert (folder / "classes.txt").read_text().split() == NAMES
    assert sha256(folder / "img1.png") == mask_sum
    window.canvas.space_tapped.emit()
    flush(window)
    assert _names_by_region(folder, NAMES) == {"cat": "cat", "dog": "dog", "tree": "tree"}
    assert _xml_names(folder) == ["cat", "dog", "tree"]


def test_reordered_declined_keeps_the_recorded_meaning(tmp_path, make_window, fake_dialogs):
    folder = _labelled_project(tmp_path)
    mask_sum = sha256(folder / "img1.png")
    (folder / "classes.txt").write_text("background\ntree\ncat\ndog\n")
    fake_dialogs.mismatch_answer = None
    window = make_window(folder)
    assert window.session.project.classes.names == NAMES  # the masks' list, for this session
    assert (folder / "classes.txt").read_text().split() == ["background", "tree", "cat", "dog"]
    window.canvas.space_tapped.emit()
    flush(window)
    assert sha256(folder / "img1.png") == mask_sum
    assert _xml_names(folder) == ["cat", "dog", "tree"]  # not rewritten with the wrong names


def test_removed_line_remap_makes_its_pixels_ignore(tmp_path, make_window, fake_dialogs):
    folder = _labelled_project(tmp_path)
    new = ["background", "cat", "tree"]
    (folder / "classes.txt").write_text("\n".join(new) + "\n")
    fake_dialogs.mismatch_answer = "remap"
    make_window(folder)
    assert _names_by_region(folder, new) == {"cat": "cat", "dog": "ignore", "tree": "tree"}


def test_appended_names_need_no_question(tmp_path, make_window, fake_dialogs):
    folder = _labelled_project(tmp_path)
    mask_sum = sha256(folder / "img1.png")
    (folder / "classes.txt").write_text("\n".join(NAMES + ["bird"]) + "\n")
    window = make_window(folder)
    assert "ask_class_mismatch" not in fake_dialogs.names()
    assert window.session.project.classes.names == NAMES + ["bird"]
    assert _recorded(folder) == NAMES + ["bird"]
    assert sha256(folder / "img1.png") == mask_sum


@pytest.mark.parametrize("answer", ["remap", "recorded"])
def test_command_line_class_file_that_differs_is_not_ignored(tmp_path, make_window, fake_dialogs, answer):
    folder = _labelled_project(tmp_path)
    given = tmp_path / "predefined_classes.txt"
    new = ["background", "dog", "cat", "tree"]
    given.write_text("\n".join(new) + "\n")
    fake_dialogs.mismatch_answer = answer
    make_window(folder, class_file=given)
    assert "ask_class_mismatch" in fake_dialogs.names()
    expected = new if answer == "remap" else NAMES
    assert (folder / "classes.txt").read_text().split() == expected
    assert _names_by_region(folder, expected) == {"cat": "cat", "dog": "dog", "tree": "tree"}
    assert given.read_text().split() == new  # the user's file is never written


def test_command_line_class_file_that_matches_or_appends(tmp_path, make_window, fake_dialogs):
    folder = _labelled_project(tmp_path)
    given = tmp_path / "predefined_classes.txt"
    given.write_text("\n".join(NAMES + ["bird"]) + "\n")
    window = make_window(folder, class_file=given)
    assert "ask_class_mismatch" not in fake_dialogs.names()
    assert (folder / "classes.txt").read_text().split() == NAMES + ["bird"]
    assert window.session.project.classes.names == NAMES + ["bird"]


def test_unrecorded_project_is_recorded_on_open(tmp_path):
    folder = make_project(tmp_path / "images", count=1)
    Project(folder)
    assert _recorded(folder) == NAMES
