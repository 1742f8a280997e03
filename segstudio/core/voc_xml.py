"""Pascal VOC XML in labelImg's exact layout, read safely from any tool.

Writing: labelImg's ``PascalVocWriter`` layout (folder, filename, path, source/database, size,
segmented, then one ``object`` per box, tab-indented, ``verified="yes"`` on the root when verified),
so labelImg opens our save folder and shows every painted region as a box. For a mask, each
8-connected region of each class becomes one object and ``segmented`` is 1.

Coordinates follow the Pascal VOC convention, which is also what labelImg's writer produces: 1-based
pixel indices, both ends inclusive, so a region covering 0-based columns ``x0..x1`` is written
``xmin = x0 + 1``, ``xmax = x1 + 1``. This is why labelImg clamps ``xmin`` to 1, and why its
``truncated`` flag is set when ``xmin == 1`` or ``xmax == width``. Reading maps a box back to the
0-based pixel rows/columns ``ymin-1..ymax-1`` and ``xmin-1..xmax-1``; float coordinates (labelme's
exporter writes ``107.369``) are truncated as labelImg does, and boxes past the image edge are
clipped to it.

Reading is hardened: the parser never loads DTDs, never touches the network, never expands
entities, and a file that declares a DOCTYPE is refused, so neither "billion laughs" nor external
entities (``file:///etc/passwd``) can do anything.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from lxml import etree

from .assist.grabcut import grabcut_box
from .atomic import atomic_write_bytes
from .classes import ClassList, unwritable_character
from .errors import AnnotationFormatError, SaveError
from .masks import label_counts
from .palette import IGNORE_INDEX
from .safe_read import XML_LIMIT, read_limited


@dataclass
class VocObject:
    """One box; coordinates are VOC's 1-based inclusive pixel indices."""

    name: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int
    difficult: bool = False
    truncated: bool = False

    @property
    def slices(self) -> tuple[slice, slice]:
        """(rows, cols) slices of the pixels inside the box, for indexing a label map."""
        return slice(self.ymin - 1, self.ymax), slice(self.xmin - 1, self.xmax)

    @property
    def area(self) -> int:
        return max(0, self.xmax - self.xmin + 1) * max(0, self.ymax - self.ymin + 1)


@dataclass
class VocAnnotation:
    """The content of one VOC XML file; ``warnings`` lists what reading had to repair."""

    filename: str
    width: int
    height: int
    depth: int = 3
    verified: bool = False
    segmented: bool = False
    objects: list[VocObject] = field(default_factory=list)
    folder: str = ""
    path: str | None = None
    database: str = "Unknown"
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- writing


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _file_text(text: str) -> str:
    """A file or folder name as XML text: bytes that were not UTF-8 (surrogate escapes in the str)
    and characters a name line cannot hold (controls, which XML refuses too: a file may be named
    ``a\\x01.jpg``) become U+FFFD, since these fields are only informative (labelImg pairs files
    by stem)."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join("\ufffd" if unwritable_character(char) else char for char in text)


def _xml_text(text: str, what: str) -> str:
    """``text`` if XML can hold it, else SaveError naming the field (control characters)."""
    bad = unwritable_character(text)
    if bad is not None:
        raise SaveError(f"{what} {text!r} cannot be written to VOC XML: it holds the control "
                        f"character U+{ord(bad):04X}; rename it")
    return text


def annotation_to_xml(annotation: VocAnnotation) -> bytes:
    """Serialise in labelImg's layout (tab indentation, no XML declaration, UTF-8).

    Raises SaveError for a class name that XML cannot hold (nothing is written by the caller then).
    """
    annotation = replace(annotation, folder=_file_text(annotation.folder), filename=_file_text(annotation.filename),
                         path=None if annotation.path is None else _file_text(annotation.path))
    root = etree.Element("annotation")
    if annotation.verified:
        root.set("verified", "yes")
    _sub(root, "folder", annotation.folder)
    _sub(root, "filename", annotation.filename)
    if annotation.path is not None:
        _sub(root, "path", annotation.path)
    _sub(_sub(root, "source"), "database", annotation.database)
    size = _sub(root, "size")
    _sub(size, "width", str(int(annotation.width)))
    _sub(size, "height", str(int(annotation.height)))
    _sub(size, "depth", str(int(annotation.depth)))
    _sub(root, "segmented", "1" if annotation.segmented else "0")
    for obj in annotation.objects:
        item = _sub(root, "object")
        _sub(item, "name", _xml_text(obj.name, "class name"))
        _sub(item, "pose", "Unspecified")
        _sub(item, "truncated", "1" if obj.truncated else "0")
        _sub(item, "difficult", "1" if obj.difficult else "0")
        box = _sub(item, "bndbox")
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            _sub(box, tag, str(int(getattr(obj, tag))))
    etree.indent(root, space="\t")
    return etree.tostring(root, pretty_print=True, encoding="utf-8")


def write_annotation(path: str | os.PathLike, annotation: VocAnnotation) -> None:
    """Write ``annotation`` to ``path`` atomically."""
    atomic_write_bytes(path, annotation_to_xml(annotation))


def objects_from_mask(label: np.ndarray, classes: ClassList) -> list[VocObject]:
    """One object per 8-connected region of each class > 0 (ignore 255 skipped), by class index."""
    height, width = label.shape
    counts = label_counts(label)
    objects: list[VocObject] = []
    for value in np.flatnonzero(counts).tolist():
        if value == 0 or value == IGNORE_INDEX:
            continue
        region = (label == value).view(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
        name = classes.name_of(value)
        for x, y, w, h, _area in stats[1:count].tolist():
            touches = x == 0 or y == 0 or x + w == width or y + h == height
            objects.append(VocObject(name, x + 1, y + 1, x + w, y + h, truncated=touches))
    return objects


def annotation_from_mask(
    label: np.ndarray,
    image_path: str | os.PathLike,
    classes: ClassList,
    verified: bool = False,
    depth: int = 3,
) -> VocAnnotation:
    """The annotation our save writes next to a mask: regions as boxes, ``segmented`` = 1."""
    image_path = Path(image_path)
    height, width = label.shape
    return VocAnnotation(
        filename=image_path.name,
        width=width,
        height=height,
        depth=depth,
        verified=verified,
        segmented=True,
        objects=objects_from_mask(label, classes),
        folder=image_path.parent.name,
        path=str(image_path),
    )


# ---------------------------------------------------------------------------------------- reading


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
    )


def _text(element: etree._Element | None, tag: str) -> str:
    """Stripped text of child ``tag`` ('' when absent or empty, as in labelme's ``<pose/>``)."""
    if element is None:
        return ""
    child = element.find(tag)
    if child is None or child.text is None:
        return ""
    return child.text.strip()


def _number(element: etree._Element | None, tag: str, source: str, default: float | None = None) -> float:
    text = _text(element, tag)
    if not text:
        if default is None:
            raise AnnotationFormatError(f"{source}: <{tag}> is missing or empty")
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise AnnotationFormatError(f"{source}: <{tag}> is not a number: {text!r}") from exc
    if not math.isfinite(value):
        raise AnnotationFormatError(f"{source}: <{tag}> is not a finite number: {text!r}")
    return value


def _flag(element: etree._Element, tag: str, source: str) -> bool:
    return bool(int(_number(element, tag, source, default=0.0)))


def _read_object(
    item: etree._Element, index: int, width: int, height: int, source: str, warnings: list[str]
) -> VocObject | None:
    name = _text(item, "name")
    where = f"{source}: object {index + 1} ({name or 'no name'})"
    box = item.find("bndbox")
    if not name or box is None:
        warnings.append(f"{where}: no name or no <bndbox>, skipped")
        return None
    x0, y0, x1, y1 = (int(math.floor(_number(box, tag, where))) for tag in ("xmin", "ymin", "xmax", "ymax"))
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if width > 0 and height > 0:
        clipped = (max(x0, 1), max(y0, 1), min(x1, width), min(y1, height))
        if clipped[0] > clipped[2] or clipped[1] > clipped[3]:
            warnings.append(f"{where}: box outside the {width}×{height} image, skipped")
            return None
        if clipped != (x0, y0, x1, y1):
            warnings.append(f"{where}: box ({x0}, {y0}, {x1}, {y1}) clipped to the image")
        x0, y0, x1, y1 = clipped
    return VocObject(name, x0, y0, x1, y1, _flag(item, "difficult", where), _flag(item, "truncated", where))


def parse_annotation(data: bytes, source: str = "<xml>") -> VocAnnotation:
    """Parse VOC XML bytes (labelImg's, labelme's or any other tool's)."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise AnnotationFormatError(f"{source}: not well-formed XML ({exc})") from exc
    if root is None:
        raise AnnotationFormatError(f"{source}: empty XML document")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise AnnotationFormatError(f"{source}: a DOCTYPE/entity declaration is not allowed in VOC XML")
    if root.tag != "annotation":
        raise AnnotationFormatError(f"{source}: the root element is <{root.tag}>, not <annotation>")
    size = root.find("size")
    width = int(_number(size, "width", source, default=0.0))
    height = int(_number(size, "height", source, default=0.0))
    warnings: list[str] = []
    if width <= 0 or height <= 0:
        warnings.append(f"{source}: no image size; boxes are not clipped")
    objects = []
    for index, item in enumerate(root.findall("object")):
        obj = _read_object(item, index, width, height, source, warnings)
        if obj is not None:
            objects.append(obj)
    segmented_text = _text(root, "segmented")
    return VocAnnotation(
        filename=_text(root, "filename"),
        width=width,
        height=height,
        depth=int(_number(size, "depth", source, default=3.0)) or 3,
        verified=root.get("verified", "").strip().lower() == "yes",
        segmented=bool(segmented_text) and segmented_text not in ("0", "0.0"),
        objects=objects,
        folder=_text(root, "folder"),
        path=_text(root, "path") or None,
        database=_text(root.find("source"), "database") or "Unknown",
        warnings=warnings,
    )


def read_annotation(path: str | os.PathLike) -> VocAnnotation:
    """Read a VOC XML file; broken or unsafe files raise :class:`AnnotationFormatError` naming it."""
    path = Path(path)
    data = read_limited(path, XML_LIMIT, AnnotationFormatError, "annotation")
    return parse_annotation(data, str(path))


# ------------------------------------------------------------------------------- boxes to a mask


def _grabcut_box(image: np.ndarray, obj: VocObject, iterations: int = 3) -> np.ndarray | None:
    """Foreground inside ``obj``'s box by GrabCut (core.assist.grabcut); None when it finds nothing."""
    rows, cols = obj.slices
    result = grabcut_box(image, (cols.start, rows.start, cols.stop, rows.stop), iterations)
    if result.fallback:
        return None  # too small, or the box is the whole image: no background sample
    foreground = result.mask[rows, cols]
    return foreground if foreground.any() else None


BoxRefiner = Callable[[np.ndarray, list[tuple[int, int, int, int]]], list[np.ndarray]]


def boxes_to_mask(
    annotation: VocAnnotation,
    classes: ClassList,
    shape: tuple[int, ...],
    method: str = "fill",
    image: np.ndarray | None = None,
    refine: BoxRefiner | None = None,
) -> np.ndarray:
    """Turn the boxes of ``annotation`` into an (H, W) label map.

    ``method="fill"`` paints each whole box; ``"grabcut"`` keeps the foreground GrabCut finds inside
    each box of ``image`` and falls back to the whole box when it finds nothing; ``refine`` (for
    example a Segment Anything model, from a layer above this one) is called once with the image
    and every box, 0-based with exclusive ends, and returns one (H, W) bool mask per box. Larger
    boxes are painted first so that small objects inside them stay visible. Names missing from
    ``classes`` are added to it (the caller sees them as new entries).
    """
    if method not in ("fill", "grabcut"):
        raise ValueError(f"method must be 'fill' or 'grabcut', got {method!r}")
    height, width = shape[:2]
    label = np.zeros((height, width), np.uint8)
    if image is None:
        if method == "grabcut" or refine is not None:
            raise ValueError("refining boxes needs the image")
    elif image.shape[:2] != (height, width):
        raise ValueError(f"image is {image.shape[1]}×{image.shape[0]} but the mask is {width}×{height}")
    boxes = [
        VocObject(o.name, max(o.xmin, 1), max(o.ymin, 1), min(o.xmax, width), min(o.ymax, height))
        for o in annotation.objects
    ]
    boxes = sorted((b for b in boxes if b.xmin <= b.xmax and b.ymin <= b.ymax), key=lambda b: -b.area)
    # (``image is not None`` below always holds where it is tested: checked above, repeated for mypy.)
    refined = None
    if refine is not None and image is not None:
        refined = refine(image, [(b.xmin - 1, b.ymin - 1, b.xmax, b.ymax) for b in boxes])
    for number, clipped in enumerate(boxes):
        name = clipped.name
        value = classes.index_of(name) if name in classes else classes.add(name)
        rows, cols = clipped.slices
        region: np.ndarray | None
        if refined is not None:
            region = np.asarray(refined[number], bool)[rows, cols]
            region = region if region.any() else None  # nothing found: the whole box, as GrabCut does
        else:
            region = _grabcut_box(image, clipped) if method == "grabcut" and image is not None else None
        if region is None:
            label[rows, cols] = value
        else:
            label[rows, cols][region] = value
    return label
