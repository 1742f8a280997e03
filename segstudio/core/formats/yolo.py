"""YOLO text labels: Ultralytics segmentation polygons, and boxes as labelImg writes them.

One ``<stem>.txt`` per image, one line per object: ``class x1 y1 x2 y2 ...`` (a polygon, 3+
points) or ``class cx cy w h`` (a box), all normalised to 0..1 by the image width and height.
YOLO classes have no background: YOLO class ``k`` is our class ``k + 1``.

Export writes Ultralytics' layout: ``images/{train,val}/``, ``labels/{train,val}/`` and
``data.yaml`` (``train``, ``val``, ``names``; no ``path``, so Ultralytics takes the folder of the
YAML file). Polygon vertices are boundary pixel centres, which is how Ultralytics itself fills
them back (``cv2.fillPoly``), so an import gives back the painted pixels; each region is one line,
its holes cut in. Import reads that layout (labels found by replacing ``images`` with ``labels``
in the path) or labelImg's flat folder with ``classes.txt``.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text
from ..batch import BatchReport, Progress, StopFlag, run_batch
from ..errors import AnnotationFormatError, ClassFileError
from ..images import image_size, list_images, without_masks
from ..import_classes import read_name_lines
from ..masks import label_counts
from ..palette import IGNORE_INDEX
from ..project import ImageEntry
from ..safe_read import CLASS_FILE_LIMIT, MIB, read_text, read_yaml
from ..words import not_a_folder
from .export_target import ExportSource, export_image, out_folder, split_entries
from .import_target import ImportTarget
from .polygons import check_reach, fill_polygon, mask_to_polygons

MAX_LINE_VALUES = 1_000_000


@dataclass
class YoloShape:
    """One label line: ``yolo_class`` and either a box (x0, y0, x1, y1 in pixels) or a polygon."""

    yolo_class: int
    box: tuple[float, float, float, float] | None = None
    polygon: np.ndarray | None = None


# --------------------------------------------------------------------------------------- export


def label_lines(label: np.ndarray, simplify: float = 0.0) -> list[str]:
    """The lines of one label map: one per region, in class order."""
    height, width = label.shape
    scale = np.array([width, height], np.float64)
    lines = []
    for value in np.flatnonzero(label_counts(label)).tolist():
        if value in (0, IGNORE_INDEX):
            continue
        for polygon in mask_to_polygons(label == value, simplify):
            coords = (polygon / scale).ravel()
            lines.append(f"{value - 1} " + " ".join(f"{v:.6f}" for v in coords))
    return lines


def data_yaml(names: list[str], has_val: bool) -> str:
    """Ultralytics' dataset file; names are JSON strings, which YAML reads as quoted scalars."""
    lines = ["train: images/train", f"val: images/{'val' if has_val else 'train'}", f"nc: {len(names)}", "names:"]
    lines += [f"  {index}: {json.dumps(name, ensure_ascii=False)}" for index, name in enumerate(names)]
    return "\n".join(lines) + "\n"


def export_yolo(
    source: ExportSource,
    out: str | os.PathLike,
    val: float = 0.0,
    seed: int = 0,
    simplify: float = 0.0,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Write the labelled images of ``source`` as an Ultralytics segmentation dataset at ``out``."""
    root = source.out_root(out, overwrite)
    train, validation = split_entries(source.entries, val, seed)
    split_of = {e.stem: "train" for e in train} | {e.stem: "val" for e in validation}
    folders = {(kind, split): out_folder(root, kind, split)
               for kind in ("images", "labels") for split in set(split_of.values())}
    report = BatchReport()

    def one(entry: ImageEntry) -> None:
        label = source.mask(entry)
        split = split_of[entry.stem]
        export_image(entry.image_path, folders["images", split], entry.stem)
        path = folders["labels", split] / f"{entry.stem}.txt"
        atomic_write_text(path, "".join(f"{line}\n" for line in label_lines(label, simplify)))
        report.written.append(path)

    run_batch(source.entries, one, report, on_progress, should_stop)
    atomic_write_text(root / "data.yaml", data_yaml(source.classes.names[1:], bool(validation)))
    return report


# ---------------------------------------------------------------------------------------- read


LABEL_FILE_LIMIT = 64 * MIB  # thousands of polygons of thousands of points
YAML_SUFFIXES = (".yaml", ".yml")


def parse_label_file(path: Path, width: int, height: int) -> list[YoloShape]:
    """The shapes of one YOLO txt, in pixels; a malformed line (or one whose points lie absurdly far
    outside the image) raises naming the file and line. Regular files only, size bounded."""
    text = read_text(path, LABEL_FILE_LIMIT, AnnotationFormatError, "YOLO label file")
    shapes = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}:{number}"
        if len(fields) > MAX_LINE_VALUES:
            raise AnnotationFormatError(f"{where}: line too long")
        try:
            yolo_class = int(fields[0])
            values = np.array([float(v) for v in fields[1:]], np.float64)
        except ValueError as exc:
            raise AnnotationFormatError(f"{where}: not 'class x y ...' numbers") from exc
        if yolo_class < 0 or not np.isfinite(values).all():
            raise AnnotationFormatError(f"{where}: negative class or non-finite coordinate")
        shapes.append(_shape(yolo_class, values, width, height, where))
    return shapes


def _shape(yolo_class: int, values: np.ndarray, width: int, height: int, where: str) -> YoloShape:
    """One line's box (``cx cy w h``) or polygon, in pixels, its reach checked."""
    with np.errstate(over="ignore"):  # 1e308 × width: infinity, refused by check_reach
        scaled = values * np.resize(np.array([width, height], np.float64), len(values))
    if len(values) == 4:
        cx, cy, w, h = scaled
        corners = check_reach([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], width, height, where)
        return YoloShape(yolo_class, box=tuple(corners.ravel().tolist()))
    if len(values) >= 6 and len(values) % 2 == 0:
        return YoloShape(yolo_class, polygon=check_reach(scaled, width, height, where))
    raise AnnotationFormatError(f"{where}: expected 4 box values or 3+ x y pairs, got {len(values)} values")


def read_names(path: Path) -> list[object]:
    """YOLO class names, list position = YOLO class: ``names`` of a ``data.yaml`` (a list, or a
    mapping numbered 0, 1, 2 ..., the two forms Ultralytics writes) or the lines of a
    ``classes.txt``. An entry that cannot be a class name keeps its place, so later classes keep
    theirs; it is refused (and named) when a shape uses it."""
    if path.suffix.lower() not in YAML_SUFFIXES:
        return list(read_name_lines(path, "YOLO class file"))
    data = read_yaml(path, CLASS_FILE_LIMIT, ClassFileError, "YOLO data file")
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        names = _numbered(names, path)
    if not isinstance(names, list) or not names:
        raise ClassFileError(f"{path}: 'names' must be a list of class names or a mapping 0: name, 1: name ...")
    return names


def _numbered(names: dict, path: Path) -> list[object]:
    """The values of ``{0: name, 1: name ...}`` in order (keys may be written as "0")."""
    keys = {}
    for key in names:
        if isinstance(key, bool) or not (isinstance(key, int) or (isinstance(key, str) and key.isdigit())):
            raise ClassFileError(f"{path}: 'names' keys must be the numbers 0, 1, 2 ..., got {key!r}")
        keys[int(key)] = key
    if sorted(keys) != list(range(len(keys))):
        raise ClassFileError(f"{path}: names must be numbered 0, 1, 2 ...")
    return [names[keys[i]] for i in range(len(keys))]


def shapes_to_label(
    shapes: list[YoloShape], names: list[object], target: ImportTarget, width: int, height: int, source: str
) -> np.ndarray:
    """Paint boxes and polygons (larger first) with their project classes; boxes are filled. The
    shapes of a refused class are skipped and named."""
    label = np.zeros((height, width), np.uint8)
    skipped: Counter = Counter()
    for shape in sorted(shapes, key=lambda s: -_extent(s)):
        value = target.value_for(yolo_name(names, shape.yolo_class, source), source, skipped)
        if value is None:
            continue
        if shape.polygon is not None:
            fill_polygon(label, shape.polygon, value)
        else:
            x0, y0, x1, y1 = pixel_box(_box(shape), width, height)
            label[y0:y1, x0:x1] = value
    target.note_skipped(source, skipped)
    return label


def yolo_name(names: list[object], yolo_class: int, source: str) -> object:
    """The name of YOLO class ``yolo_class``; a class past the names makes the file unusable."""
    if yolo_class >= len(names):
        raise AnnotationFormatError(f"{source}: class {yolo_class} but only {len(names)} names")
    return names[yolo_class]


def _extent(shape: YoloShape) -> float:
    if shape.polygon is not None:
        span = shape.polygon.max(axis=0) - shape.polygon.min(axis=0)
        return float(span[0] * span[1])
    x0, y0, x1, y1 = _box(shape)
    return (x1 - x0) * (y1 - y0)


def _box(shape: YoloShape) -> tuple[float, float, float, float]:
    if shape.box is None:
        raise ValueError(f"a YOLO shape of class {shape.yolo_class} has neither a box nor a polygon")
    return shape.box


def pixel_box(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel rows/cols covered by a box in continuous coordinates, clipped to the image."""
    x0, y0, x1, y1 = box
    left, top = max(0, int(math.floor(x0 + 0.5))), max(0, int(math.floor(y0 + 0.5)))
    right, bottom = min(width, int(math.floor(x1 + 0.5))), min(height, int(math.floor(y1 + 0.5)))
    return left, top, max(left, right), max(top, bottom)


def label_file_for(image_path: Path, root: Path) -> Path:
    """Ultralytics' rule: the last ``images`` folder in the path becomes ``labels``; flat folders
    (labelImg) keep the txt beside the image."""
    parts = list(image_path.relative_to(root).parts)
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == "images":
            parts[index] = "labels"
            return root.joinpath(*parts).with_suffix(".txt")
    return image_path.with_suffix(".txt")


def _images_under(root: Path) -> list[Path]:
    images_dir = root / "images"
    if images_dir.is_dir():
        folders = [images_dir] + sorted(p for p in images_dir.iterdir() if p.is_dir())
    else:
        folders = [root]
    found = []
    for folder in folders:
        found.extend(without_masks(list_images(folder)))
    return found


def import_yolo(
    src: str | os.PathLike,
    save_dir: str | os.PathLike,
    names_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Import a YOLO dataset folder (``data.yaml`` or ``classes.txt``) into ``save_dir``; images
    without a label file are skipped."""
    src = Path(src)
    if not src.is_dir():
        raise AnnotationFormatError(not_a_folder(src))
    names_path = Path(names_file) if names_file else next(
        (p for p in (src / "data.yaml", src / "data.yml", src / "classes.txt") if os.path.lexists(p)), None
    )
    if names_path is None:
        raise AnnotationFormatError(f"{src}: no data.yaml or classes.txt naming the classes")
    names = read_names(names_path)
    target = ImportTarget(save_dir, overwrite, names, str(names_path))

    def one(image_path: Path) -> None:
        label_path = label_file_for(image_path, src)
        if not os.path.lexists(label_path):
            target.report.skipped.append(f"{image_path.name}: no label file {label_path.name}")
            return
        if target.should_skip(image_path.stem, image_path):
            return
        width, height = image_size(image_path)
        shapes = parse_label_file(label_path, width, height)
        label = shapes_to_label(shapes, names, target, width, height, str(label_path))
        target.write(image_path.stem, label, image_path, str(label_path))

    run_batch(_images_under(src), one, target.report, on_progress, should_stop)
    return target.finish()
