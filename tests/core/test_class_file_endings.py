"""Class files written on Windows (Notepad: CRLF line ends, often a UTF-8 BOM) read as the same
names as on Linux, wherever a class file is read: a project's classes.txt, a class file given on
the command line, a dataset's classes.txt or class_names.txt."""

from __future__ import annotations

import pytest

from segstudio.core.classes import load_class_file
from segstudio.core.import_classes import read_name_lines
from segstudio.core.project import Project

NAMES = ["background", "cat", "dög", "traffic light"]
BOM = "\ufeff"


def variants(lines: list[str]) -> dict[str, bytes]:
    """The same lines as Linux, Notepad (CRLF, with and without BOM) and a last line without an end."""
    return {
        "lf": "".join(f"{n}\n" for n in lines).encode(),
        "crlf": "".join(f"{n}\r\n" for n in lines).encode(),
        "bom+crlf": (BOM + "".join(f"{n}\r\n" for n in lines)).encode(),
        "bom+lf": (BOM + "".join(f"{n}\n" for n in lines)).encode(),
        "crlf, no end": "\r\n".join(lines).encode(),
    }


@pytest.mark.parametrize("kind", list(variants(NAMES)))
def test_class_file_reads_the_same_names_whatever_the_line_ends(tmp_path, kind):
    path = tmp_path / "classes.txt"
    path.write_bytes(variants(NAMES)[kind])
    classes, warnings = load_class_file(path)
    assert classes.names == NAMES and warnings == []


@pytest.mark.parametrize("kind", list(variants(NAMES)))
def test_dataset_class_files_read_the_same_names(tmp_path, kind):
    path = tmp_path / "class_names.txt"
    path.write_bytes(variants(NAMES)[kind])
    assert read_name_lines(path) == NAMES


def test_blank_lines_keep_their_place_with_crlf(tmp_path):
    """A dataset's blank line keeps its index (YOLO class k = line k): "\\r\\n\\r\\n" is one blank line."""
    path = tmp_path / "classes.txt"
    path.write_bytes(b"\xef\xbb\xbfcat\r\n\r\ndog\r\n\r\n")
    assert read_name_lines(path) == ["cat", "", "dog"]


def test_a_notepad_edit_of_classes_txt_is_no_class_conflict(tmp_path):
    """classes.txt rewritten by Notepad (same names, CRLF and BOM) matches the list the masks were
    written with: the project opens with no conflict and saving does not rewrite the file."""
    project = Project(tmp_path, tmp_path / "out")
    project.classes.names[:] = NAMES[:1]
    for name in NAMES[1:]:
        project.classes.add(name)
    project.save_classes()
    notepad = variants(NAMES)["bom+crlf"]
    project.class_path.write_bytes(notepad)
    again = Project(tmp_path, tmp_path / "out")
    assert again.classes.names == NAMES and again.class_conflict is None and again.class_warnings == []
    assert project.class_path.read_bytes() == notepad  # the user's file is left as they wrote it


def test_a_notepad_class_file_on_the_command_line_seeds_the_same_list(tmp_path):
    given = tmp_path / "predefined_classes.txt"
    given.write_bytes(variants(NAMES)["bom+crlf"])
    project = Project(tmp_path, tmp_path / "out", class_file=given)
    assert project.classes.names == NAMES and project.class_warnings == []
    project.save_classes()
    assert (tmp_path / "out" / "classes.txt").read_bytes() == variants(NAMES)["lf"]  # written as on Linux
