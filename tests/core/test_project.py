"""Project folders: listing, classes seeding, atomic save of mask + XML, labelled/verified state."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from segstudio.core.errors import MaskError, SaveError
from segstudio.core.masks import read_mask
from segstudio.core.project import Project
from segstudio.core.voc_xml import read_annotation


def make_images(folder, names, size=(8, 6)):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", size, (10, 20, 30)).save(folder / name)


def test_listing_in_natural_order_and_default_save_dir(tmp_path) -> None:
    make_images(tmp_path, ["img10.jpg", "img2.jpg", "img1.png"])
    project = Project(tmp_path)
    assert [e.image_path.name for e in project.entries] == ["img1.png", "img2.jpg", "img10.jpg"]
    entry = project.entries[1]
    assert entry.mask_path == tmp_path.resolve() / "img2.png" and entry.xml_path.name == "img2.xml"
    assert entry.stem == "img2"
    assert project.index_of(tmp_path / "img10.jpg") == 2
    assert project.classes.names[0] == "background" and len(project.classes) == 21  # bundled default


def test_save_writes_mask_xml_and_classes(tmp_path) -> None:
    make_images(tmp_path / "imgs", ["a.jpg", "b.jpg"])
    project = Project(tmp_path / "imgs", tmp_path / "out")
    entry = project.entries[0]
    assert not project.is_labelled(entry) and project.load_mask(entry) is None
    label = np.zeros((6, 8), np.uint8)
    label[1:3, 2:5] = 15
    label[5, 7] = 255
    project.save(entry, label)
    assert project.is_labelled(entry) and not project.is_verified(entry)
    assert np.array_equal(read_mask(entry.mask_path), label)
    assert np.array_equal(project.load_mask(entry), label)
    annotation = read_annotation(entry.xml_path)
    assert [(o.name, o.xmin, o.ymin, o.xmax, o.ymax) for o in annotation.objects] == [("person", 3, 2, 5, 3)]
    assert (tmp_path / "out" / "classes.txt").read_text().splitlines()[15] == "person"
    assert project.labelled_entries() == [entry]
    # no temp files left (.segstudio/project.json records the class list the masks use)
    assert sorted(os.listdir(tmp_path / "out")) == [".segstudio", "a.png", "a.xml", "classes.txt"]


def test_verified_flag_follows_the_xml(tmp_path) -> None:
    make_images(tmp_path, ["a.jpg"])
    project = Project(tmp_path)
    entry = project.entries[0]
    label = np.zeros((6, 8), np.uint8)
    project.save(entry, label, verified=True)
    assert project.is_verified(entry)
    project.save(entry, label, verified=False)
    assert not project.is_verified(entry)
    project.save(entry, label, verified=True)
    assert project.is_verified(entry)
    # labelImg's own file is recognised too
    entry.xml_path.write_text('<annotation verified="yes">\n\t<folder>x</folder>\n</annotation>\n')
    assert project.is_verified(entry)


def test_masks_in_the_image_folder_are_not_listed_as_images(tmp_path) -> None:
    make_images(tmp_path, ["a.jpg", "b.png"])
    project = Project(tmp_path)
    project.save(project.entries[0], np.zeros((6, 8), np.uint8))
    project.refresh()
    assert [e.image_path.name for e in project.entries] == ["a.jpg", "b.png"]  # a.png is a mask
    png_entry = project.entries[1]
    assert not project.is_labelled(png_entry)
    with pytest.raises(SaveError, match="b.png"):
        project.save(png_entry, np.zeros((6, 8), np.uint8))
    assert Image.open(tmp_path / "b.png").mode == "RGB"  # the image is untouched


def test_classes_come_from_save_dir_then_class_file(tmp_path) -> None:
    make_images(tmp_path / "imgs", ["a.jpg"])
    seed = tmp_path / "predefined_classes.txt"
    seed.write_text("dog\ncat\n")
    project = Project(tmp_path / "imgs", tmp_path / "out", seed)
    assert project.classes.names == ["background", "dog", "cat"]
    assert project.class_warnings and "background" in project.class_warnings[0]
    assert not (tmp_path / "out" / "classes.txt").exists()
    project.save(project.entries[0], np.zeros((6, 8), np.uint8))
    assert (tmp_path / "out" / "classes.txt").read_text() == "background\ndog\ncat\n"
    again = Project(tmp_path / "imgs", tmp_path / "out", seed)  # classes.txt now wins
    assert again.classes.names == ["background", "dog", "cat"] and again.class_warnings == []


def test_bad_masks_are_refused(tmp_path) -> None:
    make_images(tmp_path, ["a.jpg"])
    project = Project(tmp_path, tmp_path / "out")
    entry = project.entries[0]
    with pytest.raises(MaskError):
        project.save(entry, np.zeros((5, 8), np.uint8))  # wrong size
    with pytest.raises(MaskError):
        project.save(entry, np.full((6, 8), 40, np.uint8))  # not a class
    assert not entry.mask_path.exists()
    entry.mask_path.parent.mkdir()
    Image.new("L", (3, 3)).save(entry.mask_path)  # a mask of the wrong size written by someone else
    with pytest.raises(MaskError, match="a.png"):
        project.load_mask(entry)


def test_settings_file_keeps_unknown_keys_and_class_colours(tmp_path) -> None:
    import json

    make_images(tmp_path, ["a.jpg"])
    project = Project(tmp_path)
    settings_path = tmp_path / ".segstudio" / "project.json"
    settings_path.parent.mkdir()
    settings_path.write_text(json.dumps({"active_model": "m1", "future": [1, 2]}))
    project = Project(tmp_path)
    assert project.settings["active_model"] == "m1"
    project.classes.colours[3] = (1, 2, 3)
    project.save_class_colours()
    # Another writer (the training dock) changed a key meanwhile: it is kept.
    data = json.loads(settings_path.read_text())
    data["active_model"] = "m2"
    settings_path.write_text(json.dumps(data))
    project.settings.pop("active_model")
    project.save_class_colours()
    data = json.loads(settings_path.read_text())
    assert data["active_model"] == "m2" and data["future"] == [1, 2]
    assert data["class_colours"] == {project.classes.names[3]: "#010203"}
    assert Project(tmp_path).classes.colours[3] == (1, 2, 3)
    assert (tmp_path / "classes.txt").exists() is False  # colours never go into the class file


def test_broken_settings_file_is_reported_not_fatal(tmp_path) -> None:
    make_images(tmp_path, ["a.jpg"])
    (tmp_path / ".segstudio").mkdir()
    (tmp_path / ".segstudio" / "project.json").write_text("{not json")
    project = Project(tmp_path)
    assert project.settings == {} and any("project.json" in w for w in project.class_warnings)


def test_leftover_journal_is_completed_on_open(tmp_path) -> None:
    from segstudio.core import journal

    make_images(tmp_path, ["a.jpg"])
    (tmp_path / "classes.txt").write_text("background\nold\n")
    temp = tmp_path / ".classes.txt.x.remap"
    temp.write_text("background\nnew\n")
    journal.write_journal(tmp_path, [(temp, tmp_path / "classes.txt")])
    stray = tmp_path / ".a.png.k2x_9qz0.remap"  # named as tempfile.mkstemp names our temporaries
    project = Project(tmp_path)
    assert project.classes.names == ["background", "new"] and project.recovered_files == 1
    assert not temp.exists() and not journal.journal_path(tmp_path).exists()
    stray.write_bytes(b"half")  # a crash before the journal: the temporary is dropped
    os.utime(stray, (1, 1))  # old enough not to belong to a save in progress elsewhere
    Project(tmp_path)
    assert not stray.exists()
