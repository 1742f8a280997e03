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
from pathlib import Path

import cv2
import numpy as np

from ..atomic import atomic_write_text
from ..batch import BatchReport, Progress, StopFlag, run_batch
from ..errors import AnnotationFormatError
from ..masks import label_counts
from ..palette import IGNORE_INDEX
from ..project import ImageEntry
from . import rle
from .export_target import ExportSource, export_image, out_folder, split_entries
from .import_target import ImportTarget, check_size, plain_stem, relative_inside
from .polygons import fill_polygon_centres, mask_to_polygons

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
    images, annotations = [], []
    for image, notes in records:
        images.append(image)
        for note in notes:
            annotations.append({"id": len(annotations) + 1, "image_id": image["id"], **note})
    info = {"description": "exported by segstudio", "version": "1.0"}
    return {"info": info, "licenses": [], "images": images, "annotations": annotations, "categories": categories}


# --------------------------------------------------------------------------------------- import


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError as exc:
        raise AnnotationFormatError(f"COCO file not found: {path}") from exc
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AnnotationFormatError(f"{path}: not a readable COCO JSON file ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise AnnotationFormatError(f"{path}: not a COCO file (no 'images' list)")
    for key in ("annotations", "categories"):
        if not isinstance(data.get(key, []), list):
            raise AnnotationFormatError(f"{path}: '{key}' is not a list")
    return data


def _categories(data: dict, source: str, report: BatchReport) -> dict[int, str]:
    names: dict[int, str] = {}
    for number, item in enumerate(data.get("categories", []), start=1):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or not isinstance(item.get("name"), str):
            report.warnings.append(f"{source}: category {number} has no integer id or no name; skipped")
            continue
        names[item["id"]] = item["name"]
    return names


def _paint(label: np.ndarray, note: dict, value: int, source: str) -> None:
    """Paint one annotation's segmentation (polygons or RLE) with ``value``."""
    segmentation = note.get("segmentation")
    height, width = label.shape
    if isinstance(segmentation, dict):
        label[rle.decode(segmentation, source, (height, width))] = value
        return
    if not isinstance(segmentation, list) or not segmentation:
        raise AnnotationFormatError(f"{source}: no segmentation")
    for polygon in segmentation:
        if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
            raise AnnotationFormatError(f"{source}: a polygon must be a list of 3 or more x, y pairs")
        try:
            coords = np.asarray(polygon, np.float64).reshape(-1, 2)
        except (TypeError, ValueError) as exc:
            raise AnnotationFormatError(f"{source}: polygon coordinates must be numbers") from exc
        if not np.isfinite(coords).all():
            raise AnnotationFormatError(f"{source}: polygon coordinates must be finite")
        fill_polygon_centres(label, coords, value)


def _sort_key(note: dict) -> float:
    area = note.get("area")
    return -float(area) if isinstance(area, (int, float)) and math.isfinite(area) else 0.0


def import_coco(
    json_path: str | os.PathLike,
    save_dir: str | os.PathLike,
    images_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Import a COCO JSON into ``save_dir``; images are looked up in ``images_dir`` (default: the
    JSON's folder, or ``../images`` beside an ``annotations/`` folder)."""
    json_path = Path(json_path)
    data = _load(json_path)
    folder = Path(images_dir) if images_dir is not None else _default_images(json_path)
    notes = BatchReport()
    categories = _categories(data, str(json_path), notes)
    target = ImportTarget(save_dir, overwrite, [categories[key] for key in sorted(categories)])
    target.report.warnings.extend(notes.warnings)
    by_image: dict[object, list[dict]] = {}
    for note in data.get("annotations", []):
        if isinstance(note, dict):
            by_image.setdefault(note.get("image_id"), []).append(note)

    def one(image: object) -> None:
        if not isinstance(image, dict) or "id" not in image or not isinstance(image.get("file_name"), str):
            raise AnnotationFormatError(f"{json_path}: an image entry has no id or file_name")
        where = f"{json_path}: image {image['file_name']!r}"
        stem = plain_stem(image["file_name"], where)
        image_path = relative_inside(folder, image["file_name"], where)
        if not image_path.is_file():
            raise AnnotationFormatError(f"{where}: image file not found in {folder}")
        if target.should_skip(stem, image_path):
            return
        width, height = check_size(image.get("width"), image.get("height"), where)
        label = np.zeros((height, width), np.uint8)
        for note in sorted(by_image.get(image["id"], []), key=_sort_key):
            name = categories.get(note.get("category_id"))
            if name is None:
                target.report.warnings.append(f"{where}: annotation {note.get('id')} has an unknown category; skipped")
                continue
            _paint(label, note, target.index_for(name), f"{where}, annotation {note.get('id')}")
        target.write(stem, label, image_path, where)

    run_batch(data["images"], one, target.report, on_progress, should_stop)
    return target.finish()


def _default_images(json_path: Path) -> Path:
    beside = json_path.parent
    if beside.name == "annotations" and (beside.parent / "images").is_dir():
        return beside.parent / "images"
    return beside
