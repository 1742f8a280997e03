"""An import keeps the project consistent at every instant: classes.txt lists each class before the
first mask that uses it, a name that cannot be a class is refused (its shapes skipped and named,
never painted under another class's index), and the class list the masks were written with
(project.json) is extended, never contradicted."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.core import project_file
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, photo  # noqa: E402
from import_helpers import SIZE, box_xml, error_lines, run_cli  # noqa: E402

BAD = "b\u2028c"  # a name that str.splitlines() reads as two lines
# A region of the 10×12 image per class of the dataset, in the dataset's order (x0, y0, x1, y1).
BOXES = [(0, 0, 4, 4), (6, 0, 10, 4), (0, 6, 4, 10)]
REGIONS = [(slice(y0, y1), slice(x0, x1)) for x0, y0, x1, y1 in BOXES]


class Killed(BaseException):
    """The process dies here (what a kill does to an import: no clean-up runs)."""


def dense(count: int) -> np.ndarray:
    """The dataset's mask: region k holds value k + 1."""
    label = np.zeros(SIZE, np.uint8)
    for index in range(count):
        label[REGIONS[index]] = index + 1
    return label


def yolo_line(index: int) -> str:
    x0, y0, x1, y1 = BOXES[index]
    h, w = SIZE
    return f"{index} {(x0 + x1) / 2 / w} {(y0 + y1) / 2 / h} {(x1 - x0) / w} {(y1 - y0) / h}\n"


def make(fmt: str, src: Path, names=("cat", BAD, "dog")) -> list:
    """A dataset of ``fmt`` whose image a.jpg has one region of each of ``names``; the arguments."""
    photo(src / "images" / "a.jpg", size=SIZE)
    if fmt == "coco":
        squares = [[x0, y0, x1, y0, x1, y1, x0, y1] for x0, y0, x1, y1 in BOXES[: len(names)]]
        document = {"images": [{"id": 1, "file_name": "a.jpg", "width": SIZE[1], "height": SIZE[0]}],
                    "categories": [{"id": i, "name": n} for i, n in enumerate(names, start=1)],
                    "annotations": [{"id": i, "image_id": 1, "category_id": i, "segmentation": [s], "area": 16}
                                    for i, s in enumerate(squares, start=1)]}
        (src / "images" / "coco.json").write_text(json.dumps(document))
        return ["import", "coco", src / "images" / "coco.json"]
    if fmt.startswith("yolo"):
        (src / "labels").mkdir()
        (src / "labels" / "a.txt").write_text("".join(yolo_line(i) for i in range(len(names))))
        if fmt == "yolo data.yaml":
            (src / "data.yaml").write_text("names:\n" + "".join(f"  - {json.dumps(n)}\n" for n in names))
            return ["import", "yolo", src]
        (src / "classes.txt").write_text("".join(f"{n}\n" for n in names))
        return ["import", "yolo", src] + (["--classes", src / "classes.txt"] if fmt == "yolo --classes" else [])
    if fmt == "hf":
        write_mask(src / "images" / "a.png", dense(len(names)))
        (src / "metadata.jsonl").write_text(json.dumps({"file_name": "images/a.jpg", "mask_file_name": "images/a.png"}))
        (src.parent / "id2label.json").write_text(json.dumps({str(i): n for i, n in enumerate(["background", *names])}))
        return ["import", "hf", src.parent]
    if fmt == "voc":
        (src / "images").rename(src / "JPEGImages")
        (src / "SegmentationClass").mkdir()
        write_mask(src / "SegmentationClass" / "a.png", dense(len(names)))
        (src / "class_names.txt").write_text("".join(f"{n}\n" for n in ["background", *names]))
        return ["import", "voc", src]
    if fmt == "labelme":
        shapes = [{"label": n, "shape_type": "rectangle", "points": [[x0, y0], [x1 - 1, y1 - 1]]}
                  for n, (x0, y0, x1, y1) in zip(names, BOXES)]
        (src / "images" / "a.json").write_text(json.dumps({"shapes": shapes, "imagePath": "a.jpg"}))
        return ["import-labelme", src / "images"]
    (src / "boxes").mkdir()
    objects = [(n, x0 + 1, y0 + 1, x1, y1) for n, (x0, y0, x1, y1) in zip(names, BOXES)]
    (src / "boxes" / "a.xml").write_text(box_xml("a.jpg", objects))
    return ["boxes-to-masks", src / "boxes"]


def tail(fmt: str, src: Path) -> list:
    return ["--images", src / "images"] if fmt == "boxes" else []


FORMATS = ["coco", "yolo data.yaml", "yolo classes.txt", "yolo --classes", "hf", "voc", "labelme", "boxes"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_name_that_splits_a_line_is_refused_and_no_class_shifts(fmt, tmp_path, capsys) -> None:
    src, save = tmp_path / "src" / "train", tmp_path / "project"
    if fmt != "hf":
        src = tmp_path / "src"
    src.mkdir(parents=True)
    args = make(fmt, src)
    before = checksums(tmp_path / "src")
    status, _, err = run_cli([*args, save, *tail(fmt, src)], capsys)
    assert status == 0, err
    refused = [line for line in err.splitlines() if "refused" in line]
    assert refused and all(repr(BAD) in line for line in refused), err
    assert "\u2028" not in err  # every name is shown escaped: one message, one line
    assert (save / "classes.txt").read_text().split("\n")[1:] == ["cat", "dog", ""]
    label = read_mask(save / "a.png")
    cat, bad, dog = (label[region] for region in REGIONS)
    assert cat.min() == cat.max() == 1 and dog.min() == dog.max() == 2
    assert set(np.unique(bad).tolist()) <= {0, 255}  # not painted as cat or dog
    assert checksums(tmp_path / "src") == before


@pytest.mark.parametrize("bad", ["x\x0cy", "p\x85q", "", "   ", "r\u2029s"])
def test_other_names_a_class_file_cannot_hold_are_refused(bad, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    src.mkdir()
    args = make("coco", src, names=("cat", bad, "dog"))
    status, _, err = run_cli([*args, save], capsys)
    assert status == 0 and "refused" in err and str(src / "images" / "coco.json") in err, err
    assert (save / "classes.txt").read_text() == "background\ncat\ndog\n"
    assert read_mask(save / "a.png")[7, 1] == 2


def _load_every_mask(save: Path, images: Path) -> None:
    project = Project(images, save)
    for entry in project.labelled_entries():
        project.load_mask(entry)  # raises when a value is not a class of classes.txt


@pytest.mark.parametrize("fmt", FORMATS)
def test_classes_txt_lists_a_class_before_the_first_mask_uses_it(fmt, tmp_path, capsys, monkeypatch) -> None:
    """Every mask write sees classes.txt already listing the mask's values: an import killed after
    any mask leaves a project that loads."""
    src, save = tmp_path / "src", tmp_path / "project"
    (src / "train").mkdir(parents=True)
    args = make(fmt, src / "train" if fmt == "hf" else src, names=("cat", "dog"))
    import segstudio.core.formats.import_target as import_target
    import segstudio.core.labelme as labelme
    module = labelme if fmt == "labelme" else import_target
    real, seen = module.write_mask, []

    def checked_write(path, label, colours=None):
        listed = (save / "classes.txt").read_text().splitlines() if (save / "classes.txt").exists() else []
        seen.append((int(label.max()), len(listed)))
        real(path, label, colours)
        raise Killed  # right after the first mask

    monkeypatch.setattr(module, "write_mask", checked_write)
    with pytest.raises(Killed):
        from segstudio.cli.main import main

        main([str(a) for a in [*args, save, *tail(fmt, src)]])
    capsys.readouterr()
    assert seen and all(value < listed for value, listed in seen), seen
    _load_every_mask(save, src / ("JPEGImages" if fmt == "voc" else "train/images" if fmt == "hf" else "images"))


def _recorded(save: Path, names: list[str]) -> None:
    save.mkdir(parents=True, exist_ok=True)
    project_file.write_settings(save, {project_file.CLASS_LIST_KEY: names})


def test_a_project_without_classes_txt_extends_the_recorded_list(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    src.mkdir()
    _recorded(save, ["background", "dog", "tree"])
    args = make("coco", src, names=("cat", "dog"))
    status, _, err = run_cli([*args, save], capsys)
    assert status == 0, err
    assert (save / "classes.txt").read_text() == "background\ndog\ntree\ncat\n"  # not the dataset's order
    label = read_mask(save / "a.png")
    assert label[1, 1] == 3 and label[1, 7] == 1


@pytest.mark.parametrize("fmt", ["coco", "labelme"])
def test_an_import_refuses_a_classes_txt_that_contradicts_the_recorded_list(fmt, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    src.mkdir()
    _recorded(save, ["background", "cat", "dog"])
    (save / "classes.txt").write_text("background\ndog\ncat\n")  # reordered by hand since
    args = make(fmt, src, names=("cat", "dog"))
    before = checksums(tmp_path)
    status, _, err = run_cli([*args, save], capsys)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and "classes.txt differs" in lines[0], err
    assert checksums(tmp_path) == before


@pytest.mark.parametrize("fmt", ["coco", "labelme"])
def test_overwrite_keeps_a_read_only_mask_and_names_it(fmt, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    src.mkdir()
    save.mkdir()
    (save / "classes.txt").write_text("background\ncat\ndog\n")
    write_mask(save / "a.png", np.full(SIZE, 2, np.uint8))
    os.chmod(save / "a.png", 0o444)  # the user protected this mask
    before = checksums(save / "a.png")
    args = make(fmt, src, names=("cat", "dog"))
    status, out, err = run_cli([*args, save, "--overwrite"], capsys)
    assert status == 0, err
    assert any("a.png" in line and "read-only" in line for line in (out + err).splitlines()), out + err
    assert checksums(save / "a.png") == before
