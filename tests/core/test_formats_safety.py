"""Exports never write into the project or over a non-empty folder; imports never replace masks
silently, only extend classes.txt, map labels by name, and stay inside the save folder."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.core.errors import SaveError
from segstudio.core.formats import hf_folder, voc_folder, yolo
from segstudio.core.formats.export_target import export_source
from segstudio.core.masks import read_mask, write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_project import checksums, make_project, scene_masks  # noqa: E402


@pytest.mark.parametrize("where", ["save", "inside_images", "parent"])
def test_export_refuses_the_project(where, tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    before = checksums(tmp_path)
    out = {"save": save_dir, "inside_images": image_dir / "export", "parent": tmp_path / "project"}[where]
    with pytest.raises(SaveError, match="overlaps the project"):
        voc_folder.export_voc(export_source(save_dir, image_dir), out, overwrite=True)
    assert checksums(tmp_path) == before
    assert not (image_dir / "export").exists()


def test_export_refuses_a_non_empty_folder_unless_overwrite(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    source = export_source(save_dir, image_dir)
    with pytest.raises(SaveError, match="not empty"):
        yolo.export_yolo(source, out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert yolo.export_yolo(source, out, overwrite=True).ok
    assert (out / "notes.txt").read_text() == "mine"  # nothing of OUT is deleted
    (tmp_path / "file").write_text("x")
    with pytest.raises(SaveError, match="is a file"):
        yolo.export_yolo(source, tmp_path / "file")


@pytest.mark.parametrize(("fmt", "link"), [("yolo", "images"), ("hf", "train")])
def test_export_refuses_a_subfolder_linked_out_of_out(fmt, link, tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / link)
    export = yolo.export_yolo if fmt == "yolo" else hf_folder.export_hf
    with pytest.raises(SaveError, match="outside"):
        export(export_source(save_dir, image_dir), out, overwrite=True)
    assert not any(elsewhere.iterdir())


def test_export_reports_a_broken_mask_and_exports_the_rest(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    (save_dir / "b.png").write_bytes(b"broken")
    write_mask(save_dir / "c.png", np.full((24, 24), 9, np.uint8))  # 9 is not a class
    report = voc_folder.export_voc(export_source(save_dir, image_dir), tmp_path / "out")
    assert len(report.errors) == 2
    assert sorted(p.name for p in (tmp_path / "out" / "SegmentationClass").iterdir()) == ["a.png"]
    assert (tmp_path / "out" / "ImageSets" / "Segmentation" / "trainval.txt").read_text() == "a\n"


def test_import_keeps_existing_masks_and_extends_classes_by_name(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    voc_folder.export_voc(export_source(save_dir, image_dir), tmp_path / "voc")
    target = tmp_path / "target"
    target.mkdir()
    (target / "classes.txt").write_text("background\nroad\ntree\n")  # road first, no cat/dog
    mine = np.zeros((40, 48), np.uint8)
    mine[0:3, 0:3] = 2
    write_mask(target / "a.png", mine)
    before = checksums(target)
    report = voc_folder.import_voc(tmp_path / "voc", target)
    assert report.ok and any("a.png exists" in s for s in report.skipped)
    assert checksums(target)[str(target / "a.png")] == before[str(target / "a.png")]
    names = (target / "classes.txt").read_text().splitlines()
    assert names == ["background", "road", "tree", "cat"]  # 'dog' only appears in a.png: not needed
    b = read_mask(target / "b.png")
    expected = scene_masks()["b"]
    lut = np.arange(256)
    lut[1], lut[3] = 3, 1  # the dataset's cat (1) and road (3) take the target's indices
    assert np.array_equal(b, lut[expected])
    report = voc_folder.import_voc(tmp_path / "voc", target, overwrite=True)
    assert report.ok and report.added_classes == ["dog"]
    a = read_mask(target / "a.png")
    assert (a[scene_masks()["a"] == 2] == 4).all()


def test_hf_import_refuses_paths_out_of_its_folder(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    out = tmp_path / "hf"
    hf_folder.export_hf(export_source(save_dir, image_dir), out)
    metadata = out / "train" / "metadata.jsonl"
    rows = [json.loads(line) for line in metadata.read_text().splitlines()]
    rows[0]["mask_file_name"] = "../../project/labels/b.png"
    rows[1]["file_name"] = "/etc/hosts"
    metadata.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    report = hf_folder.import_hf(out, tmp_path / "back")
    assert len(report.written) == 1 and len(report.errors) == 3
    assert all(p.parent == tmp_path / "back" for p in (tmp_path / "back").rglob("*"))


def test_import_never_writes_a_mask_over_a_png_image_of_the_same_name(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    out = tmp_path / "yolo"
    yolo.export_yolo(export_source(save_dir, image_dir), out)
    images = out / "images" / "train"  # a.jpg, b.png, c.jpg: saving masks beside them
    before = checksums(images)
    report = yolo.import_yolo(out, images)
    assert [p.name for p in report.written] == ["a.png", "c.png"]
    assert len(report.errors) == 1 and "would replace the image" in report.errors[0]
    assert checksums(images)[str(images / "b.png")] == before[str(images / "b.png")]
