"""COCO files decode with pycocotools to the painted masks; our RLE codec is pycocotools'; hostile
COCO input is reported per image while the rest is imported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from segstudio.core.formats import coco, rle
from segstudio.core.formats.export_target import export_source
from segstudio.core.masks import read_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_project import checksums, make_project, scene_masks  # noqa: E402

mask_api = pytest.importorskip("pycocotools.mask", reason="pycocotools is in the test extra")
COCO = pytest.importorskip("pycocotools.coco", reason="pycocotools is in the test extra").COCO
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools vs numpy 2


def _decode_all(json_path: Path) -> dict[str, np.ndarray]:
    """Label maps rebuilt with pycocotools alone (annToMask), larger annotations first."""
    api = COCO(str(json_path))
    labels = {}
    for image_id, image in api.imgs.items():
        label = np.zeros((image["height"], image["width"]), np.uint8)
        notes = sorted(api.loadAnns(api.getAnnIds(imgIds=[image_id])), key=lambda n: -n["area"])
        for note in notes:
            label[api.annToMask(note).astype(bool)] = note["category_id"]
        labels[Path(image["file_name"]).stem] = label
    return labels


@pytest.mark.parametrize("use_rle", [True, False])
def test_pycocotools_decodes_the_export_to_the_masks(use_rle, tmp_path) -> None:
    image_dir, save_dir = make_project(tmp_path / "project")
    report = coco.export_coco(export_source(save_dir, image_dir), tmp_path / "out", use_rle=use_rle)
    assert report.ok
    decoded = _decode_all(tmp_path / "out" / "annotations" / "instances_train.json")
    for stem, label in scene_masks().items():
        assert np.array_equal(decoded[stem], np.where(label == 255, 0, label)), stem
    document = json.loads((tmp_path / "out" / "annotations" / "instances_train.json").read_text())
    assert [c["name"] for c in document["categories"]] == ["cat", "dog", "road"]
    for note in document["annotations"]:
        assert note["area"] == int(mask_api.area(COCO_rle(note, document)))
        assert note["bbox"] == [int(v) for v in mask_api.toBbox(COCO_rle(note, document))]


def COCO_rle(note: dict, document: dict) -> dict:
    image = next(i for i in document["images"] if i["id"] == note["image_id"])
    segmentation = note["segmentation"]
    if isinstance(segmentation, list):
        return mask_api.merge(mask_api.frPyObjects(segmentation, image["height"], image["width"]))
    return {"size": segmentation["size"], "counts": segmentation["counts"].encode()}


def test_random_shapes_polygons_decode_exactly_with_pycocotools() -> None:
    rng = np.random.default_rng(3)
    for trial in range(40):
        label = np.zeros((48, 56), np.uint8)
        for _ in range(5):
            centre = tuple(int(v) for v in rng.integers(0, 56, 2))
            cv2.circle(label, centre, int(rng.integers(1, 15)), int(rng.integers(0, 3)), -1)
        if trial % 4 == 0:
            label[rng.random(label.shape) < 0.05] = 2  # specks touching corner to corner
        for note in coco.image_annotations(label, use_rle=False):
            segmentation = note["segmentation"]
            rles = mask_api.frPyObjects(segmentation, 48, 56) if isinstance(segmentation, list) else [
                {"size": segmentation["size"], "counts": segmentation["counts"].encode()}
            ]
            decoded = mask_api.decode(mask_api.merge(rles)).astype(bool)
            x, y, w, h = note["bbox"]
            region = np.zeros_like(decoded)
            region[y : y + h, x : x + w] = True
            assert decoded.sum() == note["area"]
            assert not (decoded & ~region).any() and (label[decoded] == note["category_id"]).all()


def test_rle_codec_matches_pycocotools() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        height, width = (int(v) for v in rng.integers(1, 30, 2))
        mask = rng.random((height, width)) < rng.random()
        theirs = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
        assert rle.encode(mask)["counts"] == theirs["counts"].decode()
        assert np.array_equal(rle.decode({"size": [height, width], "counts": theirs["counts"].decode()}), mask)


def test_hostile_coco_is_reported_and_the_rest_imported(tmp_path) -> None:
    image_dir, _ = make_project(tmp_path / "project")
    good = {"id": 1, "file_name": "a.jpg", "width": 48, "height": 40}
    document = {
        "images": [
            good,
            {"id": 2, "file_name": "../project/images/b.png", "width": 64, "height": 32},
            {"id": 3, "file_name": "c.jpg", "width": 10 ** 6, "height": 10 ** 6},
            {"id": 4, "file_name": "/etc/passwd", "width": 4, "height": 4},
            "not an image",
            {"id": 5, "file_name": "b.png", "width": 64, "height": 32},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "segmentation": [[1, 1, 20, 1, 20, 20]], "area": 5},
            {"id": 2, "image_id": 1, "category_id": 99, "segmentation": [[1, 1, 2, 2, 3, 1]]},
            {"id": 3, "image_id": 5, "category_id": 7,
             "segmentation": {"size": [10 ** 6, 10 ** 6], "counts": [10 ** 12]}},
        ],
        "categories": [{"id": 7, "name": "cat"}, {"id": "x", "name": 3}],
    }
    json_path = tmp_path / "instances.json"
    json_path.write_text(json.dumps(document))
    before = checksums(image_dir)
    report = coco.import_coco(json_path, tmp_path / "save", image_dir)
    assert checksums(image_dir) == before
    assert [p.name for p in report.written] == ["a.png"]
    assert len(report.errors) == 5
    assert any("RLE size [1000000, 1000000] is not the image's [32, 64]" in e for e in report.errors)
    assert any("points outside" in e for e in report.errors)
    assert any("not usable" in e for e in report.errors)
    assert any("unknown category" in w for w in report.warnings)
    assert (read_mask(tmp_path / "save" / "a.png") == 1).sum() > 100
    assert sorted(p.name for p in (tmp_path / "save").iterdir()) == ["a.png", "a.xml", "classes.txt"]


@pytest.mark.parametrize(
    "text", ["{", "[]", '{"images": 3}', '{"images": [], "annotations": {}}', "[" * 100000 + "]" * 100000]
)
def test_unreadable_coco_files_raise_one_clear_error(text, tmp_path) -> None:
    from segstudio.core.errors import AnnotationFormatError

    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(AnnotationFormatError, match="bad.json"):
        coco.import_coco(path, tmp_path / "save")
