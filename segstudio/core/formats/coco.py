"""COCO JSON: one category per class, regions as polygons (holes cut in) or as RLE.

Export writes ``images/`` (the photos) and ``annotations/instances_train.json`` (plus
``instances_val.json`` with ``--val``). Polygon mode gives one annotation per 8-connected region,
outlined along its outer pixel edges in COCO's continuous coordinates (pixel (0, 0) spans
[0, 1)²), so pycocotools, which samples pixel centres, decodes it to the painted pixels; a region
no simple outline can give back (parts joined only corner to corner) is written as RLE. ``area``
is the region's pixel count and ``bbox`` its pixel extent. RLE mode
gives one annotation per class per image (COCO-Stuff's layout), compressed as pycocotools does,
so it decodes to exactly the mask. The ignore label and the background are not exported.

Import fills polygons by pixel centres (as pycocotools does) and paints each image's
annotations, larger first so that small regions on top of larger ones
stay visible, mapping categories onto the project's classes by name.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from ..atomic import atomic_write_text
from ..batch import BatchReport, Progress, StopFlag, run_batch
from ..errors import AnnotationFormatError
from ..images import image_size
from ..masks import label_counts
from ..palette import IGNORE_INDEX
from ..project import ImageEntry
from ..safe_read import MIB, check_regular_file, read_json
from . import rle
from .export_target import ExportSource, export_image, out_folder, split_entries
from .import_target import ImportTarget, check_size, plain_stem, relative_inside
from .polygons import check_reach, fill_polygon_centres, mask_to_polygons

# --------------------------------------------------------------------------------------- export


def image_annotations(label: np.ndarray, use_rle: bool, simplify: float = 0.0) -> list[dict]:
    """COCO annotations (without ids) of one label map: ``category_id`` = class index."""
    annotations = []
    for value in np.flatnonzero(label_counts(label)).tolist():
        if value in (0, IGNORE_INDEX):
            continue
        region = label == value
        if use_rle:
            annotations.append(_rle_annotation(region, value))
        else:
            annotations.extend(_polygon_annotations(region, value, simplify))
    return annotations


def _rle_annotation(region: np.ndarray, value: int) -> dict:
    area, box = rle.area_and_box(region)
    return {"category_id": value, "segmentation": rle.encode(region), "area": area, "bbox": box, "iscrowd": 0}


def _polygon_annotations(region: np.ndarray, value: int, simplify: float) -> list[dict]:
    """One annotation per 8-connected part: its pixel-edge outline with the holes cut in.

    Without simplification each outline is checked by filling it back; a part it does not give
    back exactly (parts held together only by diagonal pixel contacts) is written as RLE instead,
    so that the file always decodes to the painted pixels.
    """
    count, parts, stats, _ = cv2.connectedComponentsWithStats(region.view(np.uint8), connectivity=8)
    annotations = []
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        part = parts[y : y + h, x : x + w] == index
        polygons = mask_to_polygons(part, simplify, pixel_edges=True)
        if simplify == 0 and not _fills_back(polygons, part):
            annotations.append(_rle_annotation(parts == index, value))
            continue
        coords = [(polygon + (x, y)).ravel().round(3).tolist() for polygon in polygons]
        annotations.append({"category_id": value, "segmentation": coords, "area": area,
                            "bbox": [x, y, w, h], "iscrowd": 0})
    return annotations


def _fills_back(polygons: list[np.ndarray], part: np.ndarray) -> bool:
    canvas = np.zeros(part.shape, np.uint8)
    for polygon in polygons:
        fill_polygon_centres(canvas, polygon, 1)
    return bool(np.array_equal(canvas.astype(bool), part))


def export_coco(
    source: ExportSource,
    out: str | os.PathLike,
    use_rle: bool = False,
    val: float = 0.0,
    seed: int = 0,
    simplify: float = 0.0,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Write ``images/`` and ``annotations/instances_{train,val}.json`` at ``out``."""
    root = source.out_root(out, overwrite)
    images_dir, notes_dir = out_folder(root, "images"), out_folder(root, "annotations")
    report = BatchReport()
    records: dict[str, tuple[dict, list[dict]]] = {}

    def one(entry: ImageEntry) -> None:
        label = source.mask(entry)
        name = export_image(entry.image_path, images_dir, entry.stem)
        height, width = label.shape
        image = {"id": len(records) + 1, "file_name": name, "width": width, "height": height}
        records[entry.stem] = (image, image_annotations(label, use_rle, simplify))
        report.written.append(images_dir / name)

    run_batch(source.entries, one, report, on_progress, should_stop)
    done = [e for e in source.entries if e.stem in records]
    train, validation = split_entries(done, val, seed)
    categories = [
        {"id": index, "name": name, "supercategory": ""} for index, name in enumerate(source.classes.names) if index
    ]
    for split, part in (("train", train), ("val", validation)):
        if split == "val" and not part:
            continue
        document = _document([records[e.stem] for e in part], categories)
        path = notes_dir / f"instances_{split}.json"
        atomic_write_text(path, json.dumps(document, separators=(",", ":")))
        report.written.append(path)
    return report


def _document(records: list[tuple[dict, list[dict]]], categories: list[dict]) -> dict:
    images: list[dict] = []
    annotations: list[dict] = []
    for image, notes in records:
        images.append(image)
        for note in notes:
            annotations.append({"id": len(annotations) + 1, "image_id": image["id"], **note})
    info = {"description": "exported by segstudio", "version": "1.0"}
    return {"info": info, "licenses": [], "images": images, "annotations": annotations, "categories": categories}


# --------------------------------------------------------------------------------------- import


COCO_JSON_LIMIT = 512 * MIB  # COCO 2017's instances_train2017.json is 448 MiB


def _load(path: Path) -> dict:
    """The COCO document: a regular file of bounded size holding an object with an 'images' list."""
    data = read_json(path, COCO_JSON_LIMIT, AnnotationFormatError, "COCO file", expect=dict)
    if not isinstance(data.get("images"), list):
        raise AnnotationFormatError(f"{path}: not a COCO file (no 'images' list)")
    for key in ("annotations", "categories"):
        if not isinstance(data.get(key, []), list):
            raise AnnotationFormatError(f"{path}: '{key}' is not a list")
    return data


def _is_id(value: object) -> bool:
    """COCO ids are integers (JSON true/false are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _entries_skipped(source: str, kind: str, numbers: list[int], why: str) -> str:
    """One warning for the entries of a list that were skipped, however many there are."""
    shown = ", ".join(str(n) for n in numbers[:10]) + (", …" if len(numbers) > 10 else "")
    return f"{source}: {len(numbers)} {kind} entr{'y' if len(numbers) == 1 else 'ies'} ({shown}) {why}; skipped"


def _categories(data: dict, source: str, warnings: list[str]) -> dict[int, object]:
    """Category id -> name (checked as a class name when used); bad entries named and skipped."""
    names: dict[int, object] = {}
    bad, repeated = [], []
    for number, item in enumerate(data.get("categories", []), start=1):
        if not isinstance(item, dict) or not _is_id(item.get("id")) or "name" not in item:
            bad.append(number)
        elif item["id"] in names:
            repeated.append(number)
        else:
            names[item["id"]] = item["name"]
    if bad:
        warnings.append(_entries_skipped(source, "category", bad, "are not objects with an integer id and a name"))
    if repeated:
        warnings.append(_entries_skipped(source, "category", repeated, "repeat the id of an earlier category"))
    return names


def _annotations_by_image(data: dict, source: str, warnings: list[str]) -> dict[int, list[dict]]:
    """The annotation objects of each image id; entries that are not objects with an integer
    image_id are named (in one line) and skipped."""
    by_image: dict[int, list[dict]] = {}
    bad = []
    for number, note in enumerate(data.get("annotations", []), start=1):
        if isinstance(note, dict) and _is_id(note.get("image_id")):
            by_image.setdefault(note["image_id"], []).append(note)
        else:
            bad.append(number)
    if bad:
        warnings.append(_entries_skipped(source, "annotation", bad, "are not objects with an integer image_id"))
    return by_image


def _paint(label: np.ndarray, note: dict, value: int, source: str) -> None:
    """Paint one annotation's segmentation (polygons or RLE) with ``value``."""
    segmentation = note.get("segmentation")
    height, width = label.shape
    if isinstance(segmentation, dict):
        label[rle.decode(segmentation, source, (height, width))] = value
        return
    if not isinstance(segmentation, list) or not segmentation:
        raise AnnotationFormatError(f"{source}: no segmentation (a list of polygons or an RLE object)")
    for polygon in segmentation:
        if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
            raise AnnotationFormatError(f"{source}: a polygon must be a list of 3 or more x, y pairs")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in polygon):
            raise AnnotationFormatError(f"{source}: polygon coordinates must be numbers")
        fill_polygon_centres(label, check_reach(polygon, width, height, source), value)


def _sort_key(note: dict) -> float:
    area = note.get("area")
    if isinstance(area, bool) or not isinstance(area, (int, float)):
        return 0.0
    try:
        return -float(area) if math.isfinite(area) else 0.0
    except OverflowError:  # an integer beyond any float
        return 0.0


def _image_entry(image: object, number: int, source: str, seen: set[int]) -> dict:
    """The ``number``-th image entry, refused when it is not an object with an integer id (not
    already used) and a file name."""
    if not isinstance(image, dict) or not _is_id(image.get("id")) or not isinstance(image.get("file_name"), str):
        raise AnnotationFormatError(f"{source}: image entry {number} is not an object with an integer id and a "
                                    "file_name; skipped")
    if image["id"] in seen:
        raise AnnotationFormatError(f"{source}: image entry {number} repeats the id {image['id']} of an earlier "
                                    "image; skipped")
    seen.add(image["id"])
    return image


def _label_size(image: dict, image_path: Path, where: str) -> tuple[int, int]:
    """(width, height) of the image file (header only); a different size in the entry is refused
    before anything is allocated."""
    check_regular_file(image_path, AnnotationFormatError, f"{where}: image")
    width, height = image_size(image_path)
    if image.get("width") is not None or image.get("height") is not None:
        declared = check_size(image.get("width"), image.get("height"), where)
        if declared != (width, height):
            raise AnnotationFormatError(
                f"{where}: the entry says {declared[0]}×{declared[1]} but {image_path} is {width}×{height}")
    return width, height


def import_coco(
    json_path: str | os.PathLike,
    save_dir: str | os.PathLike,
    images_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Import a COCO JSON into ``save_dir``; images are looked up in ``images_dir`` (default: the
    JSON's folder, or ``../images`` beside an ``annotations/`` folder). Entries that are not what
    COCO says are named and skipped; the other images are still imported."""
    json_path = Path(json_path)
    data = _load(json_path)
    folder = Path(images_dir) if images_dir is not None else _default_images(json_path)
    warnings: list[str] = []
    categories = _categories(data, str(json_path), warnings)
    by_image = _annotations_by_image(data, str(json_path), warnings)
    target = ImportTarget(save_dir, overwrite, [categories[key] for key in sorted(categories)],
                          f"{json_path}: categories")
    target.report.warnings.extend(warnings)
    seen: set[int] = set()

    def one(item: tuple[int, object]) -> None:
        image = _image_entry(item[1], item[0], str(json_path), seen)
        file_name = image["file_name"]
        where = f"{json_path}: image {file_name!r}"
        stem = plain_stem(file_name, where)
        image_path = relative_inside(folder, file_name, where)
        if target.should_skip(stem, image_path):
            return
        width, height = _label_size(image, image_path, where)
        label = np.zeros((height, width), np.uint8)
        skipped: Counter = Counter()
        for note in sorted(by_image.get(image["id"], []), key=_sort_key):
            note_id = note.get("id") if _is_id(note.get("id")) else "?"
            category = note.get("category_id")
            if not _is_id(category) or category not in categories:
                skipped[f"unknown category {category!r}"[:80]] += 1
                continue
            value = target.value_for(categories[category], f"{json_path}: category {category}", skipped)
            if value is not None:
                _paint(label, note, value, f"{where}, annotation {note_id}")
        target.note_skipped(where, skipped)
        target.write(stem, label, image_path, where)

    run_batch(list(enumerate(data["images"], start=1)), one, target.report, on_progress, should_stop)
    return target.finish()


def _default_images(json_path: Path) -> Path:
    beside = json_path.parent
    if beside.name == "annotations" and (beside.parent / "images").is_dir():
        return beside.parent / "images"
    return beside
