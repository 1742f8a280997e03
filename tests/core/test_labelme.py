"""labelme JSON import: every shape type, labelme's own rasterisation, folders, broken files."""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from segstudio.core.classes import ClassList, load_class_file
from segstudio.core.errors import AnnotationFormatError
from segstudio.core.labelme import import_labelme_file, import_labelme_folder
from segstudio.core.masks import read_mask
from segstudio.core.voc_xml import read_annotation


def png_b64(array: np.ndarray, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def shape(label: str, points, kind: str = "polygon", **extra) -> dict:
    return {"label": label, "points": points, "shape_type": kind, "group_id": None, "flags": {}, **extra}


def write_json(path, shapes, **fields) -> None:
    data = {"version": "5.7.0", "flags": {}, "shapes": shapes, "imagePath": fields.pop("imagePath", "x.jpg")}
    data.update(fields)
    path.write_text(json.dumps(data))


def test_shapes_in_file_order_with_embedded_image(tmp_path) -> None:
    path = tmp_path / "a.json"
    shapes = [
        shape("car", [[1, 1], [6, 4]], "rectangle"),  # columns 1..6, rows 1..4 (PIL includes both ends)
        shape("person", [[5, 3], [8, 3], [8, 6], [5, 6]]),  # later shape wins the overlap
        shape("__ignore__", [[0, 7], [0, 7]], "rectangle"),
    ]
    write_json(path, shapes, imageData=png_b64(np.zeros((8, 10, 3), np.uint8)), imageHeight=8, imageWidth=10)
    classes, _ = load_class_file(_labels(tmp_path, "__ignore__\n_background_\nperson\n"))
    label, image_path, added = import_labelme_file(path, classes)
    assert label.shape == (8, 10) and image_path is None
    assert added == ["car"] and classes.names == ["_background_", "person", "car"]
    expected = np.zeros((8, 10), np.uint8)
    expected[1:5, 1:7] = 2
    expected[3:7, 5:9] = 1
    expected[7, 0] = 255
    assert np.array_equal(label, expected)


def _labels(tmp_path, text: str):
    path = tmp_path / "labels.txt"
    path.write_text(text)
    return path


def test_size_from_image_file_then_from_header_fields(tmp_path) -> None:
    Image.fromarray(np.zeros((6, 9, 3), np.uint8)).save(tmp_path / "img.png")
    write_json(tmp_path / "img.json", [shape("a", [[2, 2]], "point")], imagePath="img.png", imageData=None)
    label, image_path, _ = import_labelme_file(tmp_path / "img.json", ClassList())
    assert label.shape == (6, 9) and image_path == tmp_path / "img.png"
    write_json(tmp_path / "b.json", [], imagePath="gone.jpg", imageData=None, imageHeight=5, imageWidth=7)
    label, image_path, _ = import_labelme_file(tmp_path / "b.json", ClassList())
    assert label.shape == (5, 7) and image_path is None and not label.any()
    write_json(tmp_path / "c.json", [], imagePath="gone.jpg", imageData=None)
    with pytest.raises(AnnotationFormatError, match="c.json"):
        import_labelme_file(tmp_path / "c.json", ClassList())


def test_broken_files_name_the_file(tmp_path) -> None:
    (tmp_path / "broken.json").write_text('{"shapes": [')
    with pytest.raises(AnnotationFormatError, match="broken.json"):
        import_labelme_file(tmp_path / "broken.json", ClassList())
    (tmp_path / "notlabelme.json").write_text('{"a": 1}')
    with pytest.raises(AnnotationFormatError, match="notlabelme.json"):
        import_labelme_file(tmp_path / "notlabelme.json", ClassList())
    write_json(tmp_path / "odd.json", [shape("a", [[1, 1]], "hexagon")], imageHeight=4, imageWidth=4)
    with pytest.raises(AnnotationFormatError, match="odd.json.*hexagon"):
        import_labelme_file(tmp_path / "odd.json", ClassList())
    write_json(tmp_path / "few.json", [shape("a", [[1, 1], [2, 2]])], imageHeight=4, imageWidth=4)
    with pytest.raises(AnnotationFormatError, match="few.json"):
        import_labelme_file(tmp_path / "few.json", ClassList())


def test_every_primitive_shape_type(shared_fixtures) -> None:
    path = shared_fixtures / "labelme_primitives" / "primitives.json"
    data = json.loads(path.read_text())
    classes = ClassList()
    label, image_path, added = import_labelme_file(path, classes)
    assert image_path == path.with_name("primitives.jpg")  # no imageData: size from the image file
    assert label.shape == (450, 560)
    assert added == ["rectangle", "circle", "polygon", "line", "point", "line_strip", "octagon"]
    counts = np.bincount(label.ravel(), minlength=len(classes))
    assert counts[classes.index_of("rectangle")] == 101 * 101 + 152 * 103  # both ends inclusive, as PIL
    (cx, cy), (px, py) = data["shapes"][1]["points"]
    assert counts[classes.index_of("circle")] == pytest.approx(math.pi * ((cx - px) ** 2 + (cy - py) ** 2), rel=0.02)
    assert counts[classes.index_of("point")] == pytest.approx(math.pi * 25, rel=0.3)
    line_length = math.dist(*data["shapes"][4]["points"])
    assert counts[classes.index_of("line")] == pytest.approx(10 * line_length, rel=0.15)
    assert counts[classes.index_of("line_strip")] > 10 * 200
    assert label[174, 345] == classes.index_of("point") and label[360, 120] == classes.index_of("polygon")
    mask_shape = data["shapes"][7]
    patch = np.array(Image.open(io.BytesIO(base64.b64decode(mask_shape["mask"])))).astype(bool)
    octagon = label[305 : 305 + patch.shape[0], 417 : 417 + patch.shape[1]] == classes.index_of("octagon")
    assert np.array_equal(octagon, patch) and counts[classes.index_of("octagon")] == patch.sum()


def test_semantic_example_matches_labelme2voc(shared_fixtures) -> None:
    """Same label maps as labelme's own labelme2voc output.

    labelme rasterises with Pillow's ImageDraw and so do we, with the same calls; the reference PNGs
    were produced with an older Pillow whose polygon edge rule differs in a single pixel of
    2011_000006 (a vertex at (103.94, 290.56)). With Pillow 13 labelme's own code gives our map
    exactly, so we allow that few-pixel difference and require 99.99 % agreement.
    """
    root = shared_fixtures / "labelme_semantic"
    classes, _ = load_class_file(root / "labels.txt")
    files = sorted((root / "data_annotated").glob("*.json"))
    assert len(files) == 3
    for json_path in files:
        label, _, added = import_labelme_file(json_path, classes)
        reference = read_mask(root / "data_dataset_voc" / "SegmentationClass" / f"{json_path.stem}.png")
        assert added == []
        assert label.shape == reference.shape
        assert set(np.unique(label)) == set(np.unique(reference))
        differ = int((label != reference).sum())
        assert differ <= 5 and differ / label.size < 1e-4, f"{json_path.name}: {differ} pixels differ"


def test_folder_import_writes_masks_xml_and_classes(shared_fixtures, tmp_path) -> None:
    src = shared_fixtures / "labelme_semantic" / "data_annotated"
    progress = []
    report = import_labelme_folder(src, tmp_path / "out", on_progress=lambda d, t: progress.append((d, t)))
    assert report.errors == [] and progress[-1] == (3, 3)
    assert sorted(p.name for p in report.masks) == ["2011_000003.png", "2011_000006.png", "2011_000025.png"]
    assert report.images_written == []  # images stay where they are
    names = (tmp_path / "out" / "classes.txt").read_text().splitlines()
    assert names[0] == "background" and report.added_classes == names[1:]  # in order of appearance
    classes, _ = load_class_file(tmp_path / "out" / "classes.txt")
    for mask_path in report.masks:
        label = read_mask(mask_path)
        again, _, _ = import_labelme_file(src / f"{mask_path.stem}.json", classes)
        assert np.array_equal(label, again)
        annotation = read_annotation(mask_path.with_suffix(".xml"))
        assert annotation.segmented and annotation.filename == f"{mask_path.stem}.jpg"
        assert {o.name for o in annotation.objects} <= set(names)


def test_folder_import_writes_embedded_image_and_reports_errors(tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_json(src / "emb.json", [shape("a", [[0, 0], [2, 2]], "rectangle")], imagePath="missing.jpg",
               imageData=png_b64(np.zeros((4, 5, 3), np.uint8)))
    (src / "bad.json").write_text("not json")
    report = import_labelme_folder(src, tmp_path / "out", ClassList(["background", "a"]))
    assert len(report.errors) == 1 and "bad.json" in report.errors[0]
    # the embedded PNG is written next to its JSON (its declared name "missing.jpg" does not fit a PNG)
    assert report.images_written == [src / "emb.png"]
    assert Image.open(src / "emb.png").size == (5, 4)
    assert read_mask(tmp_path / "out" / "emb.png").shape == (4, 5)
    assert read_annotation(tmp_path / "out" / "emb.xml").filename == "emb.png"
    kept = import_labelme_folder(src, tmp_path / "out", ClassList(["background", "a"]))
    assert kept.masks == [] and kept.kept == [tmp_path / "out" / "emb.png"]  # existing masks stay
    again = import_labelme_folder(src, tmp_path / "out", ClassList(["background", "a"]), overwrite=True)
    assert again.images_written == [] and len(again.masks) == 1  # found next to the JSON now


def test_folder_import_writes_one_mask_per_case_insensitive_name(tmp_path) -> None:
    """``Cat.jpg`` and ``cat.jpg`` would get masks ``Cat.png`` and ``cat.png``: one file on Windows and
    macOS, so the second image is refused by name instead of replacing the first one's labels."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("Cat", "cat"):
        Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(src / f"{name}.jpg")
        write_json(src / f"{name}.json", [shape("a", [[0, 0], [2, 2]], "rectangle")], imagePath=f"{name}.jpg")
    report = import_labelme_folder(src, tmp_path / "out", ClassList(["background", "a"]))
    assert len(report.masks) == 1 and len(report.errors) == 1
    assert "was already written as" in report.errors[0] and "rename one of the images" in report.errors[0]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [report.masks[0].name]
