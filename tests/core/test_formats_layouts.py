"""The exported folders follow each ecosystem's conventions: Ultralytics' YOLO segmentation lines
and data.yaml, VOC's ImageSets and class_names.txt, the Hugging Face image folder metadata."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segstudio.core.classes import ClassList, save_class_file
from segstudio.core.formats import hf_folder, voc_folder, yolo
from segstudio.core.formats.export_target import export_source
from segstudio.core.masks import read_mask, write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_project import make_project, scene_masks  # noqa: E402


def test_yolo_lines_and_data_yaml(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    save_class_file(save_dir / "classes.txt", ClassList(["background", "cat: tabby", 'dog "rex"', "road"]))
    out = tmp_path / "out"
    assert yolo.export_yolo(export_source(save_dir, image_dir), out, val=0.34).ok
    label_files = sorted(out.glob("labels/*/*.txt"))
    assert sorted(p.stem for p in label_files) == ["a", "b", "c"]
    lines = 0
    for path in label_files:
        image = next((out / "images" / path.parent.name).glob(f"{path.stem}.*"))
        assert Image.open(image).size[::-1] == scene_masks()[path.stem].shape
        for line in path.read_text().splitlines():
            fields = line.split()
            assert fields[0] in ("0", "1", "2") and len(fields) >= 7 and len(fields) % 2 == 1
            assert all(0.0 <= float(v) <= 1.0 for v in fields[1:])
            lines += 1
    assert lines == 6  # one line per region: a has a cat ring, two dogs and a road; b a cat and a road
    names = ["cat: tabby", 'dog "rex"', "road"]
    assert yolo.read_names(out / "data.yaml") == names
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(names)) and data["nc"] == 3
    assert (out / data["train"]).is_dir() and (out / data["val"]).is_dir()


def test_yolo_import_of_a_flat_labelimg_style_folder(tmp_path) -> None:
    folder = tmp_path / "flat"
    folder.mkdir()
    Image.new("RGB", (100, 50)).save(folder / "x.jpg")
    (folder / "classes.txt").write_text("car\nbike\n")
    (folder / "x.txt").write_text("1 0.1 0.2 0.5 0.2 0.5 0.8\n0 0.8 0.5 0.2 0.4\n")
    report = yolo.import_yolo(folder, tmp_path / "save")
    assert report.ok and report.added_classes == ["car", "bike"]
    label = read_mask(tmp_path / "save" / "x.png")
    assert label[10, 10] == 2 and label[30, 45] == 2 and label[25, 80] == 1
    assert label[25, 65] == 0 and (label == 1).sum() == 20 * 20


def test_voc_layout(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    out = tmp_path / "voc"
    assert voc_folder.export_voc(export_source(save_dir, image_dir), out, val=0.34).ok
    sets = out / "ImageSets" / "Segmentation"
    train, val = (sets / "train.txt").read_text().split(), (sets / "val.txt").read_text().split()
    assert sorted(train + val) == ["a", "b", "c"] and len(val) == 1 and not set(train) & set(val)
    assert (sets / "trainval.txt").read_text().split() == ["a", "b", "c"]
    assert (out / "class_names.txt").read_text().split() == ["background", "cat", "dog", "road"]
    for stem in ("a", "b", "c"):
        assert Image.open(out / "JPEGImages" / f"{stem}.jpg").format == "JPEG"  # b was a PNG
        with Image.open(out / "SegmentationClass" / f"{stem}.png") as mask:
            assert mask.mode == "P"
        assert (out / "SegmentationClassVisualization" / f"{stem}.jpg").is_file()


def test_hf_layout(tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    out = tmp_path / "hf"
    assert hf_folder.export_hf(export_source(save_dir, image_dir), out, val=0.34).ok
    assert json.loads((out / "id2label.json").read_text()) == {"0": "background", "1": "cat", "2": "dog", "3": "road"}
    rows = {}
    for split in ("train", "validation"):
        for line in (out / split / "metadata.jsonl").read_text().splitlines():
            row = json.loads(line)
            assert set(row) == {"file_name", "mask_file_name"}
            assert (out / split / row["file_name"]).is_file()
            rows[Path(row["file_name"]).stem] = out / split / row["mask_file_name"]
    assert sorted(rows) == ["a", "b", "c"]
    for stem, path in rows.items():
        assert np.array_equal(read_mask(path), scene_masks()[stem])


def test_rotated_photo_is_exported_upright(tmp_path) -> None:
    image_dir, save_dir = tmp_path / "images", tmp_path / "labels"
    image_dir.mkdir()
    save_dir.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 40×20, shown 20×40
    Image.new("RGB", (40, 20), (200, 10, 10)).save(image_dir / "r.jpg", exif=exif.tobytes())
    write_mask(save_dir / "r.png", np.ones((40, 20), np.uint8))
    save_class_file(save_dir / "classes.txt", ClassList(["background", "thing"]))
    assert yolo.export_yolo(export_source(save_dir, image_dir), tmp_path / "out").ok
    exported = tmp_path / "out" / "images" / "train" / "r.png"
    assert Image.open(exported).size == (20, 40)
