"""Hostile content in a dataset's files: COCO entries that are not what COCO says, coordinates at the
end of the float range, RLE counts that overflow, claimed sizes, data.yaml in every form
Ultralytics writes (and some it does not), names that cannot be file or class names, BOM and CRLF.
Each bad entry is named (bounded: one line per file or image, not per entry), the rest imported,
never a traceback; every mask written loads with the classes.txt written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from segstudio.core.masks import read_mask
from segstudio.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums  # noqa: E402
from import_helpers import coco, coco_document, error_lines, hf, photo, run_cli, voc, yolo  # noqa: E402

SQUARE = [0, 0, 4, 0, 4, 4, 0, 4]


def every_mask_loads(save: Path, images: Path) -> None:
    project = Project(images, save)
    for entry in project.labelled_entries():
        project.load_mask(entry)


def import_coco(tmp_path: Path, capsys, document: dict, stems=("a", "b")) -> tuple[int, str, Path]:
    src, save = tmp_path / "src", tmp_path / "project"
    path = coco(src, document, stems)
    before = checksums(src)
    status, _, err = run_cli(["import", "coco", path, save], capsys)
    assert checksums(src) == before
    return status, err, save


# ------------------------------------------------------------------------------------------ COCO


def test_coco_image_entries_that_are_not_objects_are_named_and_skipped(tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    good = document["images"]
    document["images"] = [1, "x", None, {"id": "1", "file_name": "a.jpg"}, {"id": True, "file_name": "a.jpg"},
                          {"id": 7, "file_name": 5}, good[0], {"id": 1, "file_name": "b.jpg"},
                          {"id": 9, "file_name": "../b.jpg"}, good[1]]
    status, err, save = import_coco(tmp_path, capsys, document)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 8, err
    assert sum("is not an object" in line for line in lines) == 6
    assert sum("repeats the id 1" in line for line in lines) == 1
    assert any("points outside" in line for line in lines)
    assert read_mask(save / "a.png")[1, 1] == 1 and read_mask(save / "b.png")[1, 1] == 1


def test_coco_categories_and_annotations_that_are_not_objects_are_named_once(tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    document["categories"] = [1, None, {"id": "1", "name": "x"}, {"id": 1.5, "name": "y"}, {"id": 1, "name": "cat"},
                              {"id": 1, "name": "again"}]
    bad_notes = [1, None, "x", {"image_id": [1]}, {"image_id": {"a": 1}}, {"image_id": True}]
    unknown = [{"image_id": 1, "category_id": c, "segmentation": [SQUARE]} for c in ({"x": 1}, [1], "1", 99, None)]
    document["annotations"] += bad_notes * 1000 + unknown * 1000  # thousands of entries, a few lines
    status, err, save = import_coco(tmp_path, capsys, document)
    assert status == 0, err
    warnings = err.strip().splitlines()
    assert len(warnings) == 4, err  # categories not objects, a repeated id, annotations, image a's skips
    assert any("4 category entries" in w for w in warnings) and any("6000 annotation entries" in w for w in warnings)
    assert any("'a.jpg'" in w and "5000 shape(s) skipped" in w for w in warnings)
    assert read_mask(save / "a.png")[1, 1] == 1 and (save / "classes.txt").read_text() == "background\ncat\n"


@pytest.mark.parametrize("segmentation", [
    "abc", 5, None, [], [[0, 0, 4, 0, 4]], [[0, 0, "4", 0, 4, 4]], [[0, 0, 4, 0, [4], 4]], [[0, 0, 4, True, 4, 4]],
    {"size": [10, 12]}, {"size": [10, 12], "counts": [1.5]}, {"size": ["x", 12], "counts": "0"},
])
def test_coco_segmentations_that_are_not_polygons_or_rle_cost_their_image_only(segmentation, tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    document["annotations"][0]["segmentation"] = segmentation
    status, err, save = import_coco(tmp_path, capsys, document)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and "'a.jpg', annotation 1" in lines[0], err
    assert not (save / "a.png").exists() and read_mask(save / "b.png")[1, 1] == 1


def test_coco_bbox_area_and_iscrowd_of_any_type_do_not_matter(tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    document["annotations"][0].update(bbox=["x", None], area="big", iscrowd={"a": 1})
    document["annotations"][1].update(bbox=[1e308, -1e308, 1e999, 0], area=10**400)
    status, err, save = import_coco(tmp_path, capsys, document)
    assert status == 0, err
    assert read_mask(save / "a.png")[1, 1] == 1 and read_mask(save / "b.png")[1, 1] == 1


@pytest.mark.parametrize("value", [1e308, -1e308, float("nan"), float("inf"), 10**400, 1e6])
def test_coco_coordinates_out_of_range_are_named_and_the_project_stays_consistent(value, tmp_path, capsys) -> None:
    document = coco_document(("a", "b", "c"), names=("cat", "dog"))
    document["annotations"][1]["segmentation"] = [[0, 0, value, 0, 4, value]]
    document["annotations"][2]["category_id"] = 2
    status, err, save = import_coco(tmp_path, capsys, document, stems=("a", "b", "c"))
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and "'b.jpg', annotation 2" in lines[0], err
    assert "finite" in lines[0] or "too far outside" in lines[0] or "numbers" in lines[0]
    assert read_mask(save / "c.png")[1, 1] == 2 and not (save / "b.png").exists()
    every_mask_loads(save, tmp_path / "src")


@pytest.mark.parametrize(("rle", "words"), [
    ({"size": [10, 12], "counts": [2**64, -(2**64) + 120]}, "do not cover"),
    ({"size": [10, 12], "counts": "ooooooooooooooooo"}, "too large"),
    ({"size": [10, 12], "counts": "0" * 100_000}, "longer than"),
    ({"size": [1e308, 12], "counts": "0"}, "not the image's"),
    ({"size": [float("inf"), 12], "counts": "0"}, "needs 'size'"),
    ({"size": [10**30, 10**30], "counts": [10**60]}, "not the image's"),
])
def test_coco_rle_that_overflows_is_refused_before_decoding(rle, words, tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    document["annotations"][0]["segmentation"] = rle
    status, err, save = import_coco(tmp_path, capsys, document)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and words in lines[0], err
    assert read_mask(save / "b.png")[1, 1] == 1


@pytest.mark.parametrize(("width", "height", "words"), [
    (14_000, 14_000, "the entry says 14000×14000 but"), (10**9, 10**9, "not usable"), (float("inf"), 1, "not numbers"),
    ("12", None, "not numbers"), (-12, 10, "not usable"),
])
def test_coco_claimed_image_sizes_are_checked_against_the_image_first(width, height, words, tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    document["images"][0].update(width=width, height=height)
    status, err, save = import_coco(tmp_path, capsys, document)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and words in lines[0], err
    assert read_mask(save / "b.png")[1, 1] == 1


def test_coco_without_declared_sizes_takes_the_image_size(tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    for image in document["images"]:
        del image["width"], image["height"]
    status, err, save = import_coco(tmp_path, capsys, document)
    assert status == 0 and read_mask(save / "a.png").shape == (10, 12), err


def test_coco_images_sharing_a_mask_name_are_named_not_called_existing(tmp_path, capsys) -> None:
    document = coco_document(("a", "b"))
    document["images"].append({"id": 3, "file_name": "a.png", "width": 12, "height": 10})
    photo(tmp_path / "src" / "a.png", size=(10, 12))
    status, err, save = import_coco(tmp_path, capsys, document)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and "mask a.png is already that of" in lines[0], err
    assert "exists" not in err


@pytest.mark.parametrize("text", ["", "   ", "\ufeff", "[]", "null", '{"images": 5}', "{" * 100_000])
def test_an_empty_or_odd_coco_file_is_one_line(text, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    src.mkdir()
    (src / "annotations.json").write_text(text)
    status, _, err = run_cli(["import", "coco", src / "annotations.json", save], capsys)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and str(src / "annotations.json") in lines[0], err


def test_a_coco_file_with_bom_and_crlf_imports(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    path = coco(src)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(coco_document(), indent=1).replace("\n", "\r\n").encode())
    status, _, err = run_cli(["import", "coco", path, save], capsys)
    assert status == 0 and read_mask(save / "a.png")[1, 1] == 1, err


def test_an_image_name_with_a_control_character_is_imported(tmp_path, capsys) -> None:
    stem = "a\x01b"
    status, err, save = import_coco(tmp_path, capsys, coco_document((stem, "c")), stems=(stem, "c"))
    assert status == 0, err  # lxml refused the name in the XML: a traceback after the mask was written
    assert read_mask(save / f"{stem}.png")[1, 1] == 1 and "a\ufffdb.jpg" in (save / f"{stem}.xml").read_text()


# ------------------------------------------------------------------------------------------ YOLO


@pytest.mark.parametrize("text", [
    "names:\n  - cat\n  - dog\n",  # what Ultralytics writes for a list
    "names: [cat, dog]  # two classes\n",
    "names: {0: cat, 1: dog}\n",
    "names:\n  0: cat\n  1: dog\n",
    "names:\n  '0': cat\n  '1': \"dog\"\n",
    "\ufeffpath: .\r\ntrain: images\r\nnames:\r\n  - cat\r\n  - dog # the second\r\n",
])
def test_data_yaml_in_every_form_names_the_classes(text, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    yolo(src, names_yaml=text, line="1 0 0 0.3 0 0.3 0.4 0 0.4\n")
    status, _, err = run_cli(["import", "yolo", src, save], capsys)
    assert status == 0, err
    assert (save / "classes.txt").read_text() == "background\ncat\ndog\n"
    assert read_mask(save / "a.png")[1, 1] == 2


@pytest.mark.parametrize(("text", "words"), [
    ("names: 42\n", "'names' must be"), ("names: {0: cat, 2: dog}\n", "numbered 0, 1, 2"),
    ("names: {a: cat}\n", "keys must be"), ("names: [cat\n", "not valid YAML"), ("", "'names' must be"),
    ("a: &x [1, 2]\nb: [*x, *x]\nnames: [cat]\n", "aliases"), ("nc: 2\n", "'names' must be"),
    ("names: !!python/object:os.system [echo]\n", "not valid YAML"),
])
def test_a_data_yaml_that_names_no_classes_is_one_line(text, words, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    yolo(src, names_yaml=text)
    status, _, err = run_cli(["import", "yolo", src, save], capsys)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and words in lines[0] and "data.yaml" in lines[0], err
    assert not save.exists() or not any(save.iterdir())


def test_data_yaml_names_that_are_not_text_are_refused_where_used(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    yolo(src, names_yaml="names: [cat, [x], yes, dog]\n", line="1 0 0 0.3 0 0.3 0.4 0 0.4\n3 0.5 0.5 0.2 0.2\n")
    status, _, err = run_cli(["import", "yolo", src, save], capsys)
    assert status == 0 and "class ['x'] refused" in err and "class True refused" in err, err
    assert (save / "classes.txt").read_text() == "background\ncat\ndog\n"
    label = read_mask(save / "a.png")
    assert label[1, 1] == 0 and label[5, 6] == 2  # the list's shape skipped, dog at dog's index


@pytest.mark.parametrize("line", ["0 0 0 1e308 0 1e308 1e308\n", "0 0.5 0.5 1e308 1e308\n", "0 -1e308 0 1 0 1 1\n",
                                  "0 0 0 nan 0 1 1\n", "0 0.5 0.5 inf 0.1\n"])
def test_yolo_coordinates_out_of_range_are_named_and_the_rest_imported(line, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    yolo(src)
    (src / "labels" / "a.txt").write_text(line)
    status, _, err = run_cli(["import", "yolo", src, save], capsys)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and f"{src / 'labels' / 'a.txt'}:1" in lines[0], err
    assert read_mask(save / "b.png")[1, 1] == 1
    every_mask_loads(save, src / "images")


def test_a_blank_line_in_yolo_classes_txt_keeps_later_classes_in_place(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    yolo(src, names_yaml=None, line="2 0 0 0.3 0 0.3 0.4 0 0.4\n1 0.9 0.9 0.1 0.1\n")
    (src / "classes.txt").write_text("cat\r\n\r\ndog\r\n\r\n")  # labelImg: line k is YOLO class k
    status, _, err = run_cli(["import", "yolo", src, save], capsys)
    assert status == 0 and "class '' refused" in err, err
    assert (save / "classes.txt").read_text() == "background\ncat\ndog\n"
    assert read_mask(save / "a.png")[1, 1] == 2


# -------------------------------------------------------------------------------- VOC and HF


def test_a_blank_line_in_voc_class_names_keeps_later_values_in_place(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    voc(src, names="background\n\ncat\n")  # the masks' value 1 has no name
    status, _, err = run_cli(["import", "voc", src, save], capsys)
    assert status == 0 and "class '' refused" in err and "marked ignore" in err, err
    assert read_mask(save / "a.png")[1, 1] == 255 and (save / "classes.txt").read_text() == "background\ncat\n"


def test_hf_files_with_bom_crlf_and_a_line_separator_in_a_name(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    stem = "a\u2028b"
    hf(src, stems=(stem, "c"))
    metadata = src / "train" / "metadata.jsonl"
    rows = [json.dumps({"file_name": f"images/{s}.jpg", "mask_file_name": f"masks/{s}.png"}, ensure_ascii=False)
            for s in (stem, "c")]
    metadata.write_bytes(b"\xef\xbb\xbf" + "".join(f"{row}\r\n" for row in rows).encode())
    (src / "id2label.json").write_bytes(b"\xef\xbb\xbf" + b'{"0": "background", "1": "cat"}')
    status, _, err = run_cli(["import", "hf", src, save], capsys)
    assert status == 0, err
    assert read_mask(save / f"{stem}.png")[1, 1] == 1 and read_mask(save / "c.png")[1, 1] == 1


@pytest.mark.parametrize(("id2label", "words"), [
    ({"a": "cat"}, "keys must be class indices"), ({"0": "background", "2": "cat"}, "without gaps"),
    ({}, "without gaps"),
])
def test_an_unusable_id2label_is_one_line(id2label, words, tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    hf(src, id2label=id2label)
    status, _, err = run_cli(["import", "hf", src, save], capsys)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and words in lines[0], err


def test_hf_metadata_rows_that_are_not_objects_are_named(tmp_path, capsys) -> None:
    src, save = tmp_path / "src", tmp_path / "project"
    hf(src)
    metadata = src / "train" / "metadata.jsonl"
    metadata.write_text(metadata.read_text() + '[1]\n"x"\n{"file_name": 1, "mask_file_name": "m"}\n{"_line": "y"}\n')
    status, _, err = run_cli(["import", "hf", src, save], capsys)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 4 and all(f"{metadata}:" in line for line in lines), err
    assert read_mask(save / "a.png")[1, 1] == 1 and read_mask(save / "b.png")[1, 1] == 1


def test_coco_images_whose_names_differ_only_by_case_get_one_mask(tmp_path, capsys) -> None:
    """``A.jpg`` and ``a.jpg`` would write ``A.png`` and ``a.png``: one file on Windows and macOS."""
    document = coco_document(("a", "b"))
    document["images"].append({"id": 3, "file_name": "A.jpg", "width": 12, "height": 10})
    photo(tmp_path / "src" / "A.jpg", size=(10, 12))
    status, err, save = import_coco(tmp_path, capsys, document)
    lines = error_lines(err)
    assert status == 1 and len(lines) == 1 and "mask A.png is already that of" in lines[0], err
    assert "ignore case" in lines[0] and not (save / "A.png").exists() and (save / "a.png").exists()
