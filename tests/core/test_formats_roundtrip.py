"""Every export imports back to the same masks: exact for VOC, Hugging Face, COCO RLE, and for
COCO and YOLO polygons without simplification; within the simplification otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.core.classes import load_class_file
from segstudio.core.formats import coco, hf_folder, voc_folder, yolo
from segstudio.core.formats.export_target import export_source
from segstudio.core.masks import read_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_project import CLASSES, checksums, make_project, scene_masks  # noqa: E402


def _export_import(fmt: str, tmp_path: Path, **options) -> Path:
    image_dir, save_dir = make_project(tmp_path / "project")
    before = checksums(image_dir, save_dir)
    source = export_source(save_dir, image_dir)
    out, back = tmp_path / "out", tmp_path / "back"
    if fmt == "voc":
        report = voc_folder.export_voc(source, out, val=0.34)
        imported = voc_folder.import_voc(out, back)
    elif fmt == "hf":
        report = hf_folder.export_hf(source, out, val=0.34)
        imported = hf_folder.import_hf(out, back)
    elif fmt == "coco":
        report = coco.export_coco(source, out, **options)
        imported = coco.import_coco(out / "annotations" / "instances_train.json", back)
    else:
        report = yolo.export_yolo(source, out, val=0.34, **options)
        imported = yolo.import_yolo(out, back)
    assert report.ok and imported.ok, (report.errors, imported.errors)
    assert len(imported.written) == 3
    assert checksums(image_dir, save_dir) == before  # the project is never touched
    return back


@pytest.mark.parametrize("fmt", ["voc", "hf"])
def test_png_formats_round_trip_exactly(fmt, tmp_path) -> None:
    back = _export_import(fmt, tmp_path)
    for stem, label in scene_masks().items():
        assert np.array_equal(read_mask(back / f"{stem}.png"), label)
    classes, _ = load_class_file(back / "classes.txt")
    assert classes.names[: len(CLASSES)] == CLASSES


@pytest.mark.parametrize(("fmt", "options"), [("coco", {"use_rle": True}), ("coco", {}), ("yolo", {})])
def test_rle_and_unsimplified_polygons_round_trip_exactly(fmt, options, tmp_path) -> None:
    back = _export_import(fmt, tmp_path, **options)
    for stem, label in scene_masks().items():
        expected = np.where(label == 255, 0, label)  # the ignore label is not a COCO/YOLO class
        assert np.array_equal(read_mask(back / f"{stem}.png"), expected), stem


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_simplified_polygons_stay_close(fmt, tmp_path) -> None:
    back = _export_import(fmt, tmp_path, simplify=1.0)
    for stem, label in scene_masks().items():
        got = read_mask(back / f"{stem}.png")
        for value in (1, 3):
            truth, mine = label == value, got == value
            if truth.sum() > 50:
                assert (truth & mine).sum() / (truth | mine).sum() > 0.85, (stem, value)
