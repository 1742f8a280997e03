"""Class files (labelImg/labelme conventions) and the ClassList edits with their mask remaps."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core.classes import ClassList, apply_remap, load_class_file, save_class_file
from segstudio.core.errors import ClassFileError
from segstudio.core.palette import class_colour


def write(tmp_path, text: str | bytes, name: str = "classes.txt"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_background_first_keeps_line_numbers(tmp_path) -> None:
    classes, warnings = load_class_file(write(tmp_path, "background\ncat\ndog\n"))
    assert classes.names == ["background", "cat", "dog"]
    assert warnings == []
    assert classes.colours[2] == class_colour(2)


def test_missing_background_is_inserted_with_a_warning(tmp_path) -> None:
    classes, warnings = load_class_file(write(tmp_path, "cat\ndog"))
    assert classes.names == ["background", "cat", "dog"]
    assert len(warnings) == 1 and "background" in warnings[0] and "classes.txt" in warnings[0]


def test_labelme_labels_with_ignore(tmp_path) -> None:
    classes, warnings = load_class_file(write(tmp_path, "__ignore__\n_background_\ncar\n"))
    assert classes.names == ["_background_", "car"]
    assert classes.ignore_name == "__ignore__"
    assert classes.index_of("__ignore__") == 255
    assert classes.index_of("background") == 0 and classes.index_of("_background_") == 0
    assert warnings == []


def test_blank_lines_duplicates_and_bom(tmp_path) -> None:
    text = "\ufeffbackground\ncat\n\ncat\ndog\n\n\n"
    classes, warnings = load_class_file(write(tmp_path, text))
    assert classes.names == ["background", "cat", "dog"]
    assert len(warnings) == 2  # the interior blank line and the duplicate; trailing blanks are harmless
    assert any("blank" in w for w in warnings) and any("duplicate" in w for w in warnings)


def test_background_listed_later_is_not_kept_twice(tmp_path) -> None:
    classes, warnings = load_class_file(write(tmp_path, "cat\nbackground\ndog\n"))
    assert classes.names == ["background", "cat", "dog"]
    assert len(warnings) == 2


def test_undecodable_and_missing_files_name_the_file(tmp_path) -> None:
    bad = write(tmp_path, b"cat\n\xff\xfe\xfa dog\n", "bad.txt")
    with pytest.raises(ClassFileError, match="bad.txt"):
        load_class_file(bad)
    with pytest.raises(ClassFileError, match="nothere.txt"):
        load_class_file(tmp_path / "nothere.txt")


def test_too_many_classes(tmp_path) -> None:
    with pytest.raises(ClassFileError, match="at most 255"):
        load_class_file(write(tmp_path, "\n".join(f"c{i}" for i in range(300))))


def test_save_and_reload(tmp_path) -> None:
    classes = ClassList(["background", "road", "tree"])
    save_class_file(tmp_path / "classes.txt", classes)
    assert (tmp_path / "classes.txt").read_text("utf-8") == "background\nroad\ntree\n"
    again, warnings = load_class_file(tmp_path / "classes.txt")
    assert again.names == classes.names and warnings == []


def test_add_rename_and_errors() -> None:
    classes = ClassList(["background", "cat"])
    assert classes.add("dog") == 2
    assert classes.colours[2] == class_colour(2)
    assert classes.add("bird", (1, 2, 3)) == 3 and classes.colours[3] == (1, 2, 3)
    classes.rename(1, "kitten")
    assert classes.index_of("kitten") == 1
    for bad in ("dog", "", "  ", "__ignore__", "a\nb"):
        with pytest.raises(ClassFileError):
            classes.add(bad)
    with pytest.raises(ClassFileError):
        classes.rename(1, "dog")
    with pytest.raises(KeyError):
        classes.index_of("cow")


def test_delete_returns_the_mask_remap() -> None:
    classes = ClassList(["background", "a", "b", "c"])
    classes.colours[3] = (9, 9, 9)  # a user colour travels with its class
    lut = classes.delete(2)
    assert classes.names == ["background", "a", "c"]
    assert classes.colours == [class_colour(0), class_colour(1), (9, 9, 9)]
    label = np.array([[0, 1, 2, 3, 255]], np.uint8)
    assert apply_remap(label, lut).tolist() == [[0, 1, 0, 2, 255]]
    with pytest.raises(ClassFileError):
        classes.delete(0)


def test_reorder_returns_old_to_new() -> None:
    classes = ClassList(["background", "a", "b", "c"])
    lut = classes.reorder([0, 3, 1, 2])
    assert classes.names == ["background", "c", "a", "b"]
    # every class keeps its colour; the moved ones are then stored by name with the project
    assert classes.colours == [class_colour(0), class_colour(3), class_colour(1), class_colour(2)]
    assert set(classes.colour_map()) == {"c", "a", "b"}
    label = np.array([[0, 1, 2, 3, 255]], np.uint8)
    assert apply_remap(label, lut).tolist() == [[0, 2, 3, 1, 255]]
    with pytest.raises(ClassFileError):
        classes.reorder([1, 0, 2, 3])
    with pytest.raises(ClassFileError):
        classes.reorder([0, 1, 1, 2])


def test_colour_table_and_default() -> None:
    classes = ClassList(["background", "a"], colours=[(0, 0, 0), (10, 20, 30)])
    table = classes.colour_table()
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert tuple(table[1]) == (10, 20, 30) and tuple(table[255]) == (224, 224, 192)
    default = ClassList.default()
    assert default.names[0] == "background" and "person" in default.names and len(default) == 21


def test_labelimg_class_files(shared_fixtures) -> None:
    for name in ("classes.txt", "predefined_classes.txt"):
        classes, warnings = load_class_file(shared_fixtures / "labelimg" / name)
        assert classes.names[:4] == ["background", "dog", "person", "cat"]
        assert classes.names[-1] == "cavity" and len(classes) == 16
        assert len(warnings) == 1  # background inserted


def test_labelme_labels_txt(shared_fixtures) -> None:
    classes, warnings = load_class_file(shared_fixtures / "labelme_semantic" / "labels.txt")
    assert warnings == []
    assert classes.ignore_name == "__ignore__"
    assert len(classes) == 21
    assert classes.index_of("potted plant") == 16 and classes.index_of("tv/monitor") == 20
