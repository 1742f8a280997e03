"""Boxes to masks: a folder of labelImg/VOC XML or YOLO txt boxes becomes a project's masks.

Each box is filled with its class, or refined by GrabCut inside the box (``method="grabcut"``,
falling back to the whole box where GrabCut finds nothing). Larger boxes are painted first so
that small objects inside them stay visible. Classes are mapped by name (YOLO indices through
``classes.txt`` or ``data.yaml``); boxes past the image edge are clipped; a malformed or hostile
file (a DOCTYPE, entities) is reported and skipped, never resolved. Masks go to the save folder
under the rules of :class:`~.import_target.ImportTarget`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..batch import BatchReport, Progress, StopFlag, run_batch
from ..classes import ClassList
from ..errors import AnnotationFormatError
from ..images import image_size, load_image, natural_key
from ..voc_xml import BoxRefiner, VocAnnotation, VocObject, boxes_to_mask, read_annotation
from ..words import not_a_folder
from .import_target import ImportTarget, image_for_stem, plain_stem
from .polygons import fill_polygon
from .yolo import YoloShape, parse_label_file, pixel_box, read_names, yolo_name

METHODS = ("fill", "grabcut")


def _image_of(annotation: VocAnnotation | None, stem: str, images_dir: Path) -> Path:
    """The image a box file belongs to: its ``<filename>`` when that exists, else by stem."""
    if annotation is not None and annotation.filename:
        try:
            named = images_dir / Path(annotation.filename.replace("\\", "/")).name
        except ValueError:
            named = None
        if named is not None and named.is_file():
            return named
    found = image_for_stem(images_dir, stem)
    if found is None:
        raise AnnotationFormatError(f"no image {stem}.* in {images_dir} for its boxes")
    return found


def _paint(annotation: VocAnnotation, classes: ClassList, image_path: Path, method: str,
           refine: BoxRefiner | None) -> np.ndarray:
    """The label map of the boxes of ``annotation``, whose names ``classes`` already holds."""
    width, height = image_size(image_path)
    image = load_image(image_path) if method == "grabcut" or refine is not None else None
    return boxes_to_mask(annotation, classes, (height, width), method, image, refine)


def _yolo_annotation(shapes: list[YoloShape], names: list[object], width: int, height: int,
                     source: str) -> VocAnnotation:
    """The boxes of a YOLO file as a VOC annotation (1-based inclusive pixel boxes)."""
    objects = []
    for shape in shapes:
        if shape.box is None:
            continue
        name = yolo_name(names, shape.yolo_class, source)
        x0, y0, x1, y1 = pixel_box(shape.box, width, height)
        if x1 > x0 and y1 > y0:
            objects.append(VocObject(name, x0 + 1, y0 + 1, x1, y1))  # type: ignore[arg-type]  # checked when painted
    return VocAnnotation(filename="", width=width, height=height, objects=objects)


def _box_files(boxes_dir: Path, images_dir: Path, names_path: Path, report: BatchReport) -> list[Path]:
    """The XML and YOLO files to convert: a txt is skipped when an XML of the same stem exists
    (labelImg can save both) or when no image has its stem (``predefined_classes.txt``...)."""
    found = [  # a pipe or a folder named like a box file is read, and named by the reader
        p for p in boxes_dir.iterdir() if p.suffix.lower() in (".xml", ".txt") and not p.name.startswith(".")
    ]
    xml_stems = {p.stem for p in found if p.suffix.lower() == ".xml"}
    files = []
    for path in sorted(found, key=lambda p: natural_key(p.name)):
        if path.suffix.lower() == ".txt":
            if path.resolve() == names_path.resolve():
                continue
            if path.stem in xml_stems:
                report.skipped.append(f"{path.name}: its boxes are read from {path.stem}.xml")
                continue
            if image_for_stem(images_dir, path.stem) is None:
                report.skipped.append(f"{path.name}: no image {path.stem}.* in {images_dir}, not a label file")
                continue
        files.append(path)
    return files


def _read_box_file(path: Path, images_dir: Path, names: list[object] | None, names_path: Path,
                   report: BatchReport) -> tuple[VocAnnotation, Path, list[tuple[int, np.ndarray]]]:
    """The boxes of one XML or YOLO file, its image, and a YOLO file's polygons (YOLO class, points)."""
    if path.suffix.lower() == ".xml":
        annotation = read_annotation(path)
        report.warnings.extend(annotation.warnings)
        return annotation, _image_of(annotation, path.stem, images_dir), []
    if names is None:
        raise AnnotationFormatError(f"{path}: YOLO boxes need class names ({names_path} not found)")
    image_path = _image_of(None, path.stem, images_dir)
    width, height = image_size(image_path)
    shapes = parse_label_file(path, width, height)
    polygons = [(shape.yolo_class, shape.polygon) for shape in shapes if shape.polygon is not None]
    return _yolo_annotation(shapes, names, width, height, str(path)), image_path, polygons


def boxes_to_masks(
    boxes_dir: str | os.PathLike,
    save_dir: str | os.PathLike,
    images_dir: str | os.PathLike,
    names_file: str | os.PathLike | None = None,
    method: str = "fill",
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
    refine: BoxRefiner | None = None,
) -> BatchReport:
    """Turn every ``*.xml`` and YOLO ``*.txt`` of ``boxes_dir`` into a mask in ``save_dir``.

    ``names_file`` names the YOLO classes (default ``boxes_dir/classes.txt``); XML carries names.
    ``refine`` replaces ``method`` with a model that finds the object in each box (see
    :func:`segstudio.core.voc_xml.boxes_to_mask`).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    boxes_dir, images_dir = Path(boxes_dir), Path(images_dir)
    for folder in (boxes_dir, images_dir):
        if not folder.is_dir():
            raise AnnotationFormatError(not_a_folder(folder))
    names_path = Path(names_file) if names_file else boxes_dir / "classes.txt"
    names = read_names(names_path) if names_file or os.path.lexists(names_path) else None
    target = ImportTarget(save_dir, overwrite, names, str(names_path))
    files = _box_files(boxes_dir, images_dir, names_path, target.report)

    def one(path: Path) -> None:
        annotation, image_path, polygons = _read_box_file(path, images_dir, names, names_path, target.report)
        stem = plain_stem(image_path.name, str(path))
        if target.should_skip(stem, image_path):
            return
        skipped: Counter = Counter()  # the shapes of refused classes, named once per file
        kept = [obj for obj in annotation.objects if target.value_for(obj.name, str(path), skipped) is not None]
        label = _paint(replace(annotation, objects=kept), target.classes, image_path, method, refine)
        for yolo_class, polygon in polygons:  # segmentation lines in a YOLO file are painted as polygons
            value = target.value_for(yolo_name(names or [], yolo_class, str(path)), str(path), skipped)
            if value is not None:
                fill_polygon(label, polygon, value)
        target.note_skipped(str(path), skipped)
        target.write(stem, label, image_path, str(path))

    run_batch(files, one, target.report, on_progress, should_stop)
    return target.finish()
