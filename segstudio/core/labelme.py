"""Import labelme JSON annotations as label maps.

Shapes are rasterised in file order, later shapes over earlier ones, with Pillow's ``ImageDraw``
called the way labelme's own ``shape_to_mask`` calls it (polygon with outline and fill, lines
``line_width`` = 10 wide, points as circles of radius 5, circles from the centre to a point on the
rim, ``mask`` shapes as a PNG patch over their box). Using the same rasteriser is what makes an
import pixel-identical to labelme's ``labelme2voc`` output; OpenCV's polygon fill differs on edges.

Labels map to classes by name (``_background_`` → 0, ``__ignore__`` → 255); unknown labels are
added to the class list and reported (a label that cannot be a class name is refused). Folder
import keeps the images where they are and writes ``<image stem>.png`` masks, VOC XML and
``classes.txt`` into the save folder, so ``segstudio SRC_DIR SAVE_DIR/classes.txt SAVE_DIR`` opens
the result. Only when a JSON embeds its
image (``imageData``) and the image file is missing is the image written, unchanged, next to the JSON
(under its ``imagePath`` name), so that the source folder then holds every image; nothing existing is
ever overwritten there.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .atomic import atomic_write_bytes
from .classes import ClassList
from .errors import AnnotationFormatError, ImageLoadError, SegStudioError
from .formats.polygons import check_reach
from .images import IMAGE_EXTENSIONS, check_size, image_size, natural_key, open_checked
from .import_classes import CLASS_FILE_NAME, ImportClasses, skipped_line
from .masks import write_mask
from .paths import is_read_only
from .portable_names import name_key
from .safe_read import LABELME_JSON_LIMIT, read_limited
from .voc_xml import annotation_from_mask, annotation_to_xml
from .words import not_a_folder

LINE_WIDTH = 10  # labelme's shape_to_mask defaults
POINT_SIZE = 5
SHAPE_TYPES = ("polygon", "rectangle", "circle", "line", "linestrip", "point", "mask", "oriented_rectangle")


@dataclass
class LabelmeFile:
    """What an import needs from one JSON: shapes, where the image is, and its size."""

    json_path: Path
    shapes: list[dict]
    image_path: Path | None
    image_data: bytes | None
    width: int
    height: int
    declared_image_path: str | None = None


# ------------------------------------------------------------------------------------ reading


def _decode_image_data(encoded: str, source: Path) -> bytes:
    try:
        return base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise AnnotationFormatError(f"{source}: imageData is not base64") from exc


def _open_embedded(data: bytes, name: str) -> Image.Image:
    """An image embedded in the JSON, opened lazily behind the same bomb guard as image files."""
    try:
        return open_checked(io.BytesIO(data), name)
    except ImageLoadError as exc:
        raise AnnotationFormatError(str(exc)) from exc


def _embedded_size(data: bytes, source: Path) -> tuple[int, int]:
    with _open_embedded(data, f"{source}: imageData") as image:
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:  # a broken EXIF block: the pixels as stored, as image_size does
            orientation = 1
        width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _find_image(json_path: Path, image_path: str | None) -> Path | None:
    """The image file the JSON refers to, or one with the JSON's stem next to it."""
    folder = json_path.parent
    if image_path:
        candidate = folder / image_path.replace("\\", "/")
        if candidate.is_file():
            return candidate
    for ext in IMAGE_EXTENSIONS:
        for suffix in (ext, ext.upper()):
            candidate = json_path.with_suffix(suffix)
            if candidate.is_file():
                return candidate
    return None


def read_labelme(json_path: str | os.PathLike) -> LabelmeFile:
    """Parse a labelme JSON file; broken files raise :class:`AnnotationFormatError` naming them."""
    json_path = Path(json_path)
    raw = read_limited(json_path, LABELME_JSON_LIMIT, AnnotationFormatError, "labelme file")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except RecursionError as exc:
        raise AnnotationFormatError(f"{json_path}: JSON nested too deeply to be a labelme file") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnnotationFormatError(f"{json_path}: not a readable labelme JSON file ({exc})") from exc
    del raw
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise AnnotationFormatError(f"{json_path}: not a labelme file (no 'shapes' list)")
    declared = data.get("imagePath") if isinstance(data.get("imagePath"), str) else None
    image_path = _find_image(json_path, declared)
    image_data = _decode_image_data(data["imageData"], json_path) if data.get("imageData") else None
    if image_data is not None:
        width, height = _embedded_size(image_data, json_path)
    elif image_path is not None:
        try:
            width, height = image_size(image_path)
        except ImageLoadError as exc:
            raise AnnotationFormatError(f"{json_path}: its image cannot be read: {exc}") from exc
    else:
        width, height = _declared_size(data, json_path)
    try:
        check_size(width, height, str(json_path))
    except ImageLoadError as exc:
        raise AnnotationFormatError(str(exc)) from exc
    return LabelmeFile(json_path, data["shapes"], image_path, image_data, width, height, declared)


def _declared_size(data: dict, json_path: Path) -> tuple[int, int]:
    """``imageWidth``/``imageHeight`` as integers (the size limit is checked by the caller)."""
    values: tuple[Any, Any] = data.get("imageWidth"), data.get("imageHeight")
    try:
        if any(isinstance(v, bool) for v in values):
            raise TypeError("a size is not true/false")
        width, height = (int(v) if isinstance(v, str) else v for v in values)
        if not all(float(v).is_integer() for v in (width, height)):  # also refuses inf and nan
            raise ValueError("not whole numbers")
        return int(width), int(height)
    except (TypeError, ValueError, OverflowError) as exc:
        raise AnnotationFormatError(
            f"{json_path}: no imageData, no image file found and no whole imageWidth/imageHeight"
        ) from exc


# -------------------------------------------------------------------------------- rasterising


def _points(shape: dict, source: str) -> list[tuple[float, float]]:
    try:
        points = [(float(p[0]), float(p[1])) for p in shape.get("points") or []]
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise AnnotationFormatError(f"{source}: points must be [x, y] pairs") from exc
    if not all(math.isfinite(v) for p in points for v in p):
        raise AnnotationFormatError(f"{source}: points must be finite numbers")
    return points


def _expect(points: list, count: int, kind: str, source: str) -> None:
    if len(points) != count:
        raise AnnotationFormatError(f"{source}: a {kind} needs {count} point(s), got {len(points)}")


def _draw_shape(draw: ImageDraw.ImageDraw, kind: str, xy: list[tuple[float, float]], source: str) -> None:
    """Draw one shape with value 1, exactly as labelme's ``shape_to_mask`` does."""
    if kind == "circle":
        _expect(xy, 2, kind, source)
        (cx, cy), (px, py) = xy
        d = math.sqrt((cx - px) ** 2 + (cy - py) ** 2)
        draw.ellipse(((cx - d, cy - d), (cx + d, cy + d)), outline=1, fill=1)
    elif kind == "rectangle":
        _expect(xy, 2, kind, source)
        (x0, y0), (x1, y1) = xy
        draw.rectangle(((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))), outline=1, fill=1)
    elif kind == "line":
        _expect(xy, 2, kind, source)
        draw.line(xy=xy, fill=1, width=LINE_WIDTH)
    elif kind == "linestrip":
        if len(xy) < 2:
            raise AnnotationFormatError(f"{source}: a linestrip needs at least 2 points")
        draw.line(xy=xy, fill=1, width=LINE_WIDTH, joint="curve")
    elif kind == "point":
        _expect(xy, 1, kind, source)
        (cx, cy), r = xy[0], POINT_SIZE
        draw.ellipse(((cx - r, cy - r), (cx + r, cy + r)), outline=1, fill=1)
    else:  # polygon, oriented_rectangle
        if len(xy) < 3:
            raise AnnotationFormatError(f"{source}: a polygon needs at least 3 points, got {len(xy)}")
        draw.polygon(xy=xy, outline=1, fill=1)


def _shape_bbox(xy: list[tuple[float, float]], width: int, height: int) -> tuple[int, int, int, int]:
    """A pixel box (left, top, right, bottom exclusive) that contains everything a shape can draw."""
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    reach: float = max(LINE_WIDTH, POINT_SIZE) + 2
    if len(xy) == 2:  # a circle reaches its radius in every direction
        reach += math.dist(xy[0], xy[1])
    left = max(0, int(math.floor(min(xs) - reach)))
    top = max(0, int(math.floor(min(ys) - reach)))
    right = min(width, int(math.ceil(max(xs) + reach)) + 1)
    bottom = min(height, int(math.ceil(max(ys) + reach)) + 1)
    return left, top, right, bottom


def _mask_shape(shape: dict, xy: list[tuple[float, float]], height: int, width: int, source: str) -> np.ndarray:
    """A labelme ``mask`` shape: a PNG patch whose top-left corner is the first point (rounded)."""
    _expect(xy, 2, "mask", source)
    encoded = shape.get("mask")
    if not isinstance(encoded, str):
        raise AnnotationFormatError(f"{source}: a mask shape needs a base64 PNG 'mask'")
    try:
        data = base64.b64decode(encoded)
    except (binascii.Error, ValueError) as exc:
        raise AnnotationFormatError(f"{source}: 'mask' is not a base64 PNG ({exc})") from exc
    with _open_embedded(data, f"{source}: 'mask'") as image:
        if image.width * image.height > width * height:  # a genuine patch is a crop of the image
            raise AnnotationFormatError(
                f"{source}: 'mask' is {image.width}×{image.height}, larger than its {width}×{height} image"
            )
        try:
            patch = np.array(image)
        except (OSError, ValueError, SyntaxError) as exc:
            raise AnnotationFormatError(f"{source}: 'mask' is not a readable PNG ({exc})") from exc
    if patch.ndim != 2:
        raise AnnotationFormatError(f"{source}: 'mask' must be a one-channel image, got shape {patch.shape}")
    points = np.asarray(xy)
    (x1, y1), (x2, y2) = np.round(points).astype(int)
    if np.array_equal(points, np.trunc(points)):  # labelme: integer corners give the extent
        patch_h, patch_w = y2 - y1 + 1, x2 - x1 + 1
    else:
        patch_h, patch_w = patch.shape
    patch_h, patch_w = min(patch_h, patch.shape[0]), min(patch_w, patch.shape[1])
    mask = np.zeros((height, width), bool)
    ys, ye = max(y1, 0), min(y1 + patch_h, height)
    xs, xe = max(x1, 0), min(x1 + patch_w, width)
    if ys < ye and xs < xe:
        mask[ys:ye, xs:xe] = patch[ys - y1 : ye - y1, xs - x1 : xe - x1].astype(bool)
    return mask


ClassValue = Callable[[str, str], "int | None"]  # (label, where) -> class value, None: refused


def rasterize_shapes(
    shapes: list[dict], width: int, height: int, value_of: ClassValue, source: str = "<labelme>"
) -> tuple[np.ndarray, Counter]:
    """Paint ``shapes`` in order into an (H, W) uint8 label map; returns it and the shapes skipped
    because ``value_of`` refused their label (counted by reason)."""
    label = np.zeros((height, width), np.uint8)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    skipped: Counter = Counter()
    for number, shape in enumerate(shapes, start=1):
        if not isinstance(shape, dict) or not isinstance(shape.get("label"), str):
            raise AnnotationFormatError(f"{source}: shape {number} has no label")
        name = shape["label"].strip()
        where = f"{source}: shape {number} ({name!r})"
        kind = shape.get("shape_type") or "polygon"
        if kind not in SHAPE_TYPES:
            raise AnnotationFormatError(f"{where}: unsupported shape_type {kind!r}")
        value = value_of(name, where)
        if value is None:
            skipped[f"refused class {name!r}"[:80]] += 1
            continue
        xy = _points(shape, where)
        check_reach(xy, width, height, where)
        if kind == "mask":
            label[_mask_shape(shape, xy, height, width, where)] = value
            continue
        if not xy:
            raise AnnotationFormatError(f"{where}: no points")
        left, top, right, bottom = _shape_bbox(xy, width, height)
        if left >= right or top >= bottom:
            continue  # entirely outside the image
        _draw_shape(draw, kind, xy, where)
        drawn = np.asarray(canvas.crop((left, top, right, bottom))).astype(bool)
        label[top:bottom, left:right][drawn] = value
        draw.rectangle(((left, top), (right - 1, bottom - 1)), fill=0)
    return label, skipped


def import_labelme_file(json_path: str | os.PathLike, classes: ClassList) -> tuple[np.ndarray, Path | None, list[str]]:
    """Label map of one labelme JSON, its image path (None if only embedded) and the names added to
    ``classes``; a label that cannot be a class makes the file fail."""
    parsed = read_labelme(json_path)
    added: list[str] = []

    def value_of(name: str, where: str) -> int:
        if name in classes:
            return classes.index_of(name)
        try:
            index = classes.add(name)
        except SegStudioError as exc:
            raise AnnotationFormatError(f"{where}: {exc}") from exc
        added.append(name)
        return index

    label, _ = rasterize_shapes(parsed.shapes, parsed.width, parsed.height, value_of, str(parsed.json_path))
    return label, parsed.image_path, added


# ------------------------------------------------------------------------------- folder import


@dataclass
class ImportReport:
    """What a folder import did: masks written, classes added, files that failed (with reasons)."""

    masks: list[Path] = field(default_factory=list)
    images_written: list[Path] = field(default_factory=list)
    added_classes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    class_warnings: list[str] = field(default_factory=list)
    class_file: Path | None = None
    kept: list[Path] = field(default_factory=list)  # masks that existed: not replaced, not imported
    # The masks written, by folder and portable_names.name_key (Cat.png and cat.png: one file on
    # Windows and macOS), to refuse a second image whose mask would be the same file.
    written_names: dict[tuple[Path, str], Path] = field(default_factory=dict, repr=False)


def _embedded_image_path(parsed: LabelmeFile) -> Path:
    """Where to write an embedded image: its ``imagePath`` name next to the JSON when that name's
    extension fits the data's format, else ``<json stem>.<ext>``."""
    with Image.open(io.BytesIO(parsed.image_data or b"")) as image:
        fmt = (image.format or "PNG").lower()
    ext = {"jpeg": ".jpg", "png": ".png", "bmp": ".bmp", "tiff": ".tif", "webp": ".webp"}.get(fmt, ".png")
    name = Path((parsed.declared_image_path or "").replace("\\", "/")).name
    fits = {".jpeg": ".jpg", ".tiff": ".tif"}.get(Path(name).suffix.lower(), Path(name).suffix.lower()) == ext
    return parsed.json_path.with_name(name) if name and fits else parsed.json_path.with_suffix(ext)


def _import_one(json_path: Path, save_dir: Path, classes: ImportClasses, report: ImportReport,
                overwrite: bool = False) -> None:
    parsed = read_labelme(json_path)
    image_path = parsed.image_path
    if image_path is None and parsed.image_data is None:
        raise AnnotationFormatError(f"{json_path}: no image file found and no imageData")
    if image_path is None:
        image_path = _embedded_image_path(parsed)
    mask_path, xml_path = save_dir / f"{image_path.stem}.png", save_dir / f"{image_path.stem}.xml"
    if mask_path.resolve() == image_path.resolve():
        raise AnnotationFormatError(
            f"{json_path}: its mask would overwrite the image {image_path}; choose another save folder"
        )
    # Two images with one stem (or stems that differ only by case, one file on Windows and macOS):
    # the second would replace the first's mask.
    key = (mask_path.parent, name_key(mask_path.stem))
    if key in report.written_names:
        first = report.written_names[key]
        raise AnnotationFormatError(
            f"{json_path}: its mask {mask_path} was already written as {first.name} for another image "
            f"named {first.stem} in this import; rename one of the images"
        )
    existing = [path for path in (mask_path, xml_path) if os.path.lexists(path)]
    if existing and (not overwrite or any(is_read_only(path) for path in existing)):
        report.kept.append(existing[0])
        return  # the project's own (maybe refined) annotation wins unless the user says otherwise
    label, skipped = rasterize_shapes(parsed.shapes, parsed.width, parsed.height, classes.value_for, str(json_path))
    line = skipped_line(str(json_path), skipped)
    if line is not None:
        report.class_warnings.append(line)
    xml = annotation_to_xml(annotation_from_mask(label, image_path, classes.classes))  # before any write
    classes.save()  # classes.txt lists every class of the mask before the mask exists
    # (image_data is there when image_path is not: checked first.) Never overwrite a source file.
    if parsed.image_path is None and parsed.image_data is not None and not image_path.exists():
        atomic_write_bytes(image_path, parsed.image_data)
        report.images_written.append(image_path)
    write_mask(mask_path, label, classes.classes.colour_table())
    atomic_write_bytes(xml_path, xml)
    report.masks.append(mask_path)
    report.written_names[(mask_path.parent, name_key(mask_path.stem))] = mask_path


def import_labelme_folder(
    src_dir: str | os.PathLike,
    save_dir: str | os.PathLike,
    classes: ClassList | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> ImportReport:
    """Import every ``*.json`` of ``src_dir`` into ``save_dir`` (masks, VOC XML, ``classes.txt``).

    The class list follows :mod:`segstudio.core.import_classes`: an existing ``classes.txt`` (or
    the list recorded in project.json) fixes the indices and is only ever extended (new labels, and
    names of ``classes`` it lacks, are appended), never reordered, so masks already there keep
    their meaning, and it is written before the first mask that needs it. Without one, ``classes``
    seeds the list, else background only (labels are then numbered in order of first appearance,
    as labelme does). A label that cannot be a class is refused: its shapes are skipped and named.
    An image whose mask or XML already exists is kept and listed in ``report.kept`` unless
    ``overwrite`` (a read-only one even then). A broken file is recorded in ``report.errors`` and
    the others are still imported.
    """
    src_dir, save_dir = Path(src_dir), Path(save_dir)
    if not src_dir.is_dir():
        raise AnnotationFormatError(not_a_folder(src_dir))
    save_dir.mkdir(parents=True, exist_ok=True)
    report = ImportReport(class_file=save_dir / CLASS_FILE_NAME)
    project_classes = ImportClasses(save_dir, report.class_warnings, report.added_classes)
    if classes is not None:
        project_classes.adopt(classes, "the given class file")
    files = sorted(src_dir.glob("*.json"), key=lambda p: natural_key(p.name))
    for done, json_path in enumerate(files, start=1):
        try:
            _import_one(json_path, save_dir, project_classes, report, overwrite)
        except SegStudioError as exc:
            report.errors.append(str(exc))
        if on_progress is not None:
            on_progress(done, len(files))
    project_classes.save()  # a new project gets its classes.txt; an unchanged one is not rewritten
    return report
