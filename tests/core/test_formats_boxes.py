"""Boxes to masks on real labelImg and labelme files: one region per box, inside its box; YOLO
boxes agree with the XML; hostile or broken files are reported and skipped, never resolved."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from segstudio.core.classes import load_class_file
from segstudio.core.formats.boxes import boxes_to_masks
from segstudio.core.masks import read_mask
from segstudio.core.voc_xml import read_annotation

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_project import checksums  # noqa: E402


def _boxes(xml: Path) -> list[tuple[str, tuple[slice, slice]]]:
    return [(o.name, o.slices) for o in read_annotation(xml).objects]


def _check_inside_boxes(label: np.ndarray, boxes, classes) -> None:
    """Every labelled pixel lies in a box of its class; every box holds pixels of its class."""
    allowed = np.zeros(label.shape, bool)
    for name, (rows, cols) in boxes:
        value = classes.index_of(name)
        allowed[rows, cols] |= True
        assert (label[rows, cols] == value).any(), name
    assert not ((label != 0) & ~allowed).any()
    for value in np.unique(label[label != 0]).tolist():
        own = np.zeros(label.shape, bool)
        for name, (rows, cols) in boxes:
            if classes.index_of(name) == value:
                own[rows, cols] = True
        assert not ((label == value) & ~own).any()


@pytest.mark.parametrize("method", ["fill", "grabcut"])
def test_labelimg_demo_one_region_per_box(shared_fixtures, tmp_path, method) -> None:
    src = shared_fixtures / "labelimg"
    before = checksums(src)
    report = boxes_to_masks(src, tmp_path / "save", src, method=method)
    assert report.ok and [p.name for p in report.written] == ["demo.png"]
    assert any("clipped" in w for w in report.warnings)  # the person box runs past the bottom
    assert checksums(src) == before
    classes, _ = load_class_file(tmp_path / "save" / "classes.txt")
    assert classes.names[:4] == ["background", "dog", "person", "cat"]  # labelImg's classes.txt order
    label = read_mask(tmp_path / "save" / "demo.png")
    assert label.shape == (324, 576)
    boxes = _boxes(src / "demo.xml")
    _check_inside_boxes(label, boxes, classes)
    if method == "fill":
        for name, (rows, cols) in boxes:  # these boxes do not overlap: each is one whole region
            value = classes.index_of(name)
            count, _ = cv2.connectedComponents((label == value).view(np.uint8))
            assert count - 1 == 1 and (label[rows, cols] == value).all()
            assert (label == value).sum() == label[rows, cols].size


@pytest.mark.parametrize("method", ["fill"])
def test_labelme_bbox_xml_with_float_coordinates(shared_fixtures, tmp_path, method) -> None:
    voc = shared_fixtures / "labelme_bbox" / "data_dataset_voc"
    report = boxes_to_masks(voc / "Annotations", tmp_path / "save", voc / "JPEGImages", method=method)
    assert report.ok and len(report.written) == 3
    classes, _ = load_class_file(tmp_path / "save" / "classes.txt")
    for xml in sorted((voc / "Annotations").glob("*.xml")):
        label = read_mask(tmp_path / "save" / f"{xml.stem}.png")
        boxes = _boxes(xml)
        _check_inside_boxes(label, boxes, classes)
        for value in np.unique(label[label != 0]).tolist():  # never more regions than boxes
            count, _ = cv2.connectedComponents((label == value).view(np.uint8))
            if method == "fill":
                assert count - 1 <= sum(classes.index_of(n) == value for n, _ in boxes)


def test_yolo_boxes_agree_with_the_xml(shared_fixtures, tmp_path) -> None:
    src = tmp_path / "yolo"
    shutil.copytree(shared_fixtures / "labelimg", src)
    (src / "demo.xml").unlink()
    report = boxes_to_masks(src, tmp_path / "save", src)
    assert report.ok and any("predefined_classes.txt" in s for s in report.skipped)
    from_xml = boxes_to_masks(shared_fixtures / "labelimg", tmp_path / "save_xml", shared_fixtures / "labelimg")
    assert from_xml.ok
    a, b = read_mask(tmp_path / "save" / "demo.png"), read_mask(tmp_path / "save_xml" / "demo.png")
    for value in (1, 2, 3):
        # the same boxes, read a pixel apart (VOC's 1-based corners vs YOLO's continuous centres)
        assert ((a == value) & (b == value)).sum() / ((a == value) | (b == value)).sum() > 0.9


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotation><filename>a.png</filename><object><name>&lol2;</name>
<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotation><filename>b.png</filename><object><name>&xxe;</name>
<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>"""
GOOD = b"""<annotation><filename>c.png</filename><size><width>20</width><height>10</height></size>
<object><name>cat</name><bndbox><xmin>-5</xmin><ymin>2</ymin><xmax>30</xmax><ymax>4</ymax></bndbox></object>
<object><name>dog</name><bndbox><xmin>50</xmin><ymin>2</ymin><xmax>60</xmax><ymax>4</ymax></bndbox></object>
</annotation>"""


def test_hostile_and_broken_files_are_skipped_and_the_rest_converted(tmp_path) -> None:
    from PIL import Image

    folder = tmp_path / "boxes"
    folder.mkdir()
    for stem in ("a", "b", "c", "d", "e"):
        Image.new("RGB", (20, 10)).save(folder / f"{stem}.png")
    (folder / "a.xml").write_bytes(BILLION_LAUGHS)
    (folder / "b.xml").write_bytes(EXTERNAL)
    (folder / "c.xml").write_bytes(GOOD)
    (folder / "d.xml").write_bytes(b"<annotation><object>")
    (folder / "e.txt").write_text("0 0.5 0.5 0.2\n")  # a YOLO line with 3 values
    (folder / "classes.txt").write_text("cat\n")
    before = checksums(folder)
    save = tmp_path / "save"
    report = boxes_to_masks(folder, save, folder)
    assert checksums(folder) == before
    assert [p.name for p in report.written] == ["c.png"]
    assert len(report.errors) == 4
    assert sum("DOCTYPE" in e for e in report.errors) == 2
    assert not any("passwd" in e.split(":")[-1] for e in report.errors)
    label = read_mask(save / "c.png")
    assert (label[1:4, :] == 1).all() and (label == 1).sum() == 60  # clipped to the 20-px width
    assert any("outside" in w for w in report.warnings)  # the dog box lies past the edge
    assert sorted(p.name for p in save.iterdir()) == ["c.png", "c.xml", "classes.txt"]


def test_existing_masks_are_kept_unless_overwrite(shared_fixtures, tmp_path) -> None:
    src = shared_fixtures / "labelimg"
    save = tmp_path / "save"
    save.mkdir()
    mine = np.zeros((324, 576), np.uint8)
    from segstudio.core.masks import write_mask

    write_mask(save / "demo.png", mine)
    (save / "classes.txt").write_text("background\nperson\ntree\n")
    before = checksums(save)
    report = boxes_to_masks(src, save, src)
    assert checksums(save) == before  # nothing written: the mask exists and no class was needed
    assert any("demo.png exists" in s for s in report.skipped)
    report = boxes_to_masks(src, save, src, overwrite=True)
    assert report.ok and report.added_classes == ["dog", "cat"]
    assert (save / "classes.txt").read_text().splitlines() == ["background", "person", "tree", "dog", "cat"]
    label = read_mask(save / "demo.png")
    assert set(np.unique(label).tolist()) == {0, 1, 3, 4}  # person keeps index 1; dog 3, cat 4 appended


def test_a_box_refiner_gets_every_box_once_and_stays_inside_them(shared_fixtures, tmp_path) -> None:
    """The hook boxes-to-masks --sam uses: one call per image with 0-based exclusive boxes."""
    src = shared_fixtures / "labelimg"
    calls = []

    def refine(image, boxes):
        calls.append(list(boxes))
        masks = []
        for x0, y0, x1, y1 in boxes:  # a "model" that answers with the box's top half
            mask = np.zeros(image.shape[:2], bool)
            mask[y0:(y0 + y1) // 2, x0:x1] = True
            masks.append(mask)
        return masks

    report = boxes_to_masks(src, tmp_path / "save", src, refine=refine)
    assert report.ok and len(calls) == 1 and len(calls[0]) == len(read_annotation(src / "demo.xml").objects)
    classes, _ = load_class_file(tmp_path / "save" / "classes.txt")
    label = read_mask(tmp_path / "save" / "demo.png")
    _check_inside_boxes(label, _boxes(src / "demo.xml"), classes)


def test_cli_boxes_to_masks_with_a_sam_model_folder(shared_fixtures, tmp_path, capsys) -> None:
    pytest.importorskip("transformers")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
    from sam_tiny import TINY_SAM, saved_random

    from segstudio.cli.main import main

    saved_random(tmp_path / "sam", TINY_SAM, seed=2)
    src = shared_fixtures / "labelimg"
    assert main(["boxes-to-masks", str(src), str(tmp_path / "save"), "--images", str(src),
                 "--sam", str(tmp_path / "sam")]) == 0
    classes, _ = load_class_file(tmp_path / "save" / "classes.txt")
    _check_inside_boxes(read_mask(tmp_path / "save" / "demo.png"), _boxes(src / "demo.xml"), classes)
    assert main(["boxes-to-masks", str(src), str(tmp_path / "s2"), "--images", str(src), "--sam",
                 "--grabcut"]) == 1
