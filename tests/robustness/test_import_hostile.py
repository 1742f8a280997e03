"""Special files handed to the importers in place of a dataset's files: a FIFO (which blocks a
reader), a folder, a device that never ends (/dev/zero). Each is one error line naming the file,
never a hang nor a traceback; a file that belongs to one image costs that image only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from segstudio.core.masks import read_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums  # noqa: E402
from import_helpers import boxes, coco, error_lines, hf, run_cli, voc, yolo  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")
KINDS = ["fifo", "folder", "device"]


def make_special(path: Path, kind: str) -> Path:
    """Replace ``path`` by a FIFO, a folder or a link to /dev/zero."""
    if path.is_file():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        os.symlink("/dev/zero", path)
    return path


def dataset(fmt: str, src: Path) -> list:
    """The command's arguments before SAVE_DIR for a two-image dataset of ``fmt`` at ``src``."""
    if fmt == "coco":
        return ["import", "coco", coco(src)]
    if fmt == "boxes":
        box_dir, _ = boxes(src)
        return ["boxes-to-masks", box_dir]
    maker = {"voc": voc, "yolo": yolo, "hf": hf}[fmt]
    return ["import", fmt, maker(src)]


def tail(fmt: str, src: Path) -> list:
    return ["--images", src / "images"] if fmt == "boxes" else []


# A file that names the dataset's classes, or the dataset itself: the whole command stops.
WHOLE = {
    "coco json": ("coco", "annotations.json"),
    "hf id2label": ("hf", "id2label.json"),
    "voc class_names": ("voc", "class_names.txt"),
    "yolo data.yaml": ("yolo", "data.yaml"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", sorted(WHOLE))
def test_a_special_file_naming_the_classes_stops_the_command_with_one_line(case, kind, tmp_path, capsys) -> None:
    fmt, name = WHOLE[case]
    src, save = tmp_path / "src", tmp_path / "project"
    args = dataset(fmt, src)
    special = make_special(src / name, kind)
    before = checksums(tmp_path)
    status, _, err = run_cli([*args, save, *tail(fmt, src)], capsys, fifo=special if kind == "fifo" else None)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and str(special) in lines[0], err
    assert checksums(tmp_path) == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("option", ["yolo --classes", "boxes --classes"])
def test_a_special_class_file_given_as_option_stops_the_command(option, kind, tmp_path, capsys) -> None:
    fmt = option.split()[0]
    src, save = tmp_path / "src", tmp_path / "project"
    args = dataset(fmt, src)
    special = make_special(tmp_path / "names.txt", kind)
    before = checksums(tmp_path)
    status, _, err = run_cli([*args, save, *tail(fmt, src), "--classes", special], capsys,
                             fifo=special if kind == "fifo" else None)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and str(special) in lines[0], err
    assert checksums(tmp_path) == before


# A file that belongs to image "a": that image is named and skipped, "b" is imported.
PER_IMAGE = {
    "voc mask": ("voc", "SegmentationClass/a.png"),
    "hf mask": ("hf", "train/masks/a.png"),
    "hf image": ("hf", "train/images/a.jpg"),
    "coco image": ("coco", "a.jpg"),
    "yolo label": ("yolo", "labels/a.txt"),
    "boxes xml": ("boxes", "boxes/a.xml"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", sorted(PER_IMAGE))
def test_a_special_file_of_one_image_is_named_and_the_rest_imported(case, kind, tmp_path, capsys) -> None:
    fmt, name = PER_IMAGE[case]
    src, save = tmp_path / "src", tmp_path / "project"
    args = dataset(fmt, src)
    special = make_special(src / name, kind)
    before = checksums(src)
    status, _, err = run_cli([*args, save, *tail(fmt, src)], capsys, fifo=special if kind == "fifo" else None)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and str(special) in lines[0], err
    assert checksums(src) == before
    assert sorted(p.name for p in save.iterdir() if p.suffix == ".png") == ["b.png"]
    assert read_mask(save / "b.png")[0, 0] == 1


def test_a_special_hf_metadata_file_is_named(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    hf(src)
    special = make_special(src / "train" / "metadata.jsonl", "fifo")
    status, _, err = run_cli(["import", "hf", src, save], capsys, fifo=special)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and str(special) in lines[0], err
    assert not any(p.suffix == ".png" for p in save.rglob("*"))


def test_a_special_yolo_label_file_in_a_flat_boxes_folder_is_named(tmp_path, capsys) -> None:
    box_dir, images = boxes(tmp_path / "src")
    (box_dir / "a.xml").unlink()
    (box_dir / "classes.txt").write_text("cat\n")
    make_special(box_dir / "a.txt", "fifo")
    status, _, err = run_cli(["boxes-to-masks", box_dir, tmp_path / "project", "--images", images], capsys,
                             fifo=box_dir / "a.txt")
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and str(box_dir / "a.txt") in lines[0], err
    assert (tmp_path / "project" / "b.png").is_file()
