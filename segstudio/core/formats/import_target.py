"""Where an import writes: a project's save folder, with the rules that keep the user's files.

- An existing mask is never replaced silently: it is skipped and named in the report unless the
  import runs with ``overwrite``.
- ``classes.txt`` is only ever extended: imported labels map onto existing indices by name and new
  names are appended, never inserted or reordered. A save folder without one takes the dataset's
  class list in its order, so the indices stay those of the dataset.
- A VOC XML already next to a mask (labelImg's boxes, say) is left as it is; one is written only
  where none exists.
- Mask file names come from image names reduced to a plain stem, so nothing is written outside
  the save folder whatever the source file names say.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..batch import BatchReport
from ..classes import ClassList, load_class_file, save_class_file
from ..errors import AnnotationFormatError, ClassFileError, MaskError
from ..images import IMAGE_EXTENSIONS, MAX_PIXELS, image_size
from ..masks import label_counts, write_mask
from ..palette import IGNORE_INDEX
from ..voc_xml import annotation_from_mask, write_annotation

CLASS_FILE_NAME = "classes.txt"


def plain_stem(name: str, source: str) -> str:
    """The stem of a file name from a dataset file, refused when it could escape a folder."""
    text = str(name).replace("\\", "/")
    stem = Path(text).stem
    if not stem or stem.startswith(".") or "/" in stem or "\x00" in stem:
        raise AnnotationFormatError(f"{source}: unusable image name {name!r}")
    return stem


def relative_inside(folder: Path, name: str, source: str) -> Path:
    """``folder / name`` for a relative name from a dataset file; absolute names and ``..`` refused."""
    text = str(name).replace("\\", "/")
    parts = Path(text).parts
    if not text or Path(text).is_absolute() or ".." in parts or "\x00" in text:
        raise AnnotationFormatError(f"{source}: file name {name!r} points outside its folder")
    return folder / text


def image_for_stem(folder: Path, stem: str) -> Path | None:
    """The image ``<stem>.<any image extension>`` in ``folder`` (PNG last: it may be a mask)."""
    for ext in sorted(IMAGE_EXTENSIONS, key=lambda e: e == ".png"):
        for suffix in (ext, ext.upper()):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def check_size(width: object, height: object, source: str) -> tuple[int, int]:
    """A (width, height) from a dataset file, as ints, refused when absurd."""
    try:
        w, h = int(width), int(height)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise AnnotationFormatError(f"{source}: image width/height are not numbers") from exc
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
        raise AnnotationFormatError(f"{source}: image size {w}×{h} is not usable")
    return w, h


class ImportTarget:
    """A project's save folder receiving imported masks (see the module docstring for the rules)."""

    def __init__(
        self, save_dir: str | os.PathLike, overwrite: bool = False, dataset_names: list[str] | None = None
    ) -> None:
        self.save_dir = Path(save_dir)
        self.save_dir.mkdir(parents=True, exist_ok=True)
        self.overwrite = overwrite
        self.report = BatchReport()
        self.class_path = self.save_dir / CLASS_FILE_NAME
        if self.class_path.is_file():
            self.classes, warnings = load_class_file(self.class_path)
            self.report.warnings.extend(warnings)
            self._classes_on_disk = True
        else:
            self.classes = ClassList()
            self._classes_on_disk = False
        self._stems: dict[str, str] = {}
        if not self._classes_on_disk and dataset_names:
            self._seed(dataset_names)

    def _seed(self, names: list[str]) -> None:
        """A new project takes the dataset's classes in the dataset's order, so indices match it."""
        for name in names:
            try:
                self.index_for(name)
            except AnnotationFormatError as exc:
                self.report.warnings.append(str(exc))

    # ---------------------------------------------------------------------------- class mapping

    def index_for(self, name: str) -> int:
        """Project index of class ``name``, appending it to the class list when new."""
        name = str(name).strip()
        if name in self.classes:
            return self.classes.index_of(name)
        try:
            index = self.classes.add(name)
        except ClassFileError as exc:
            raise AnnotationFormatError(f"class {name!r} cannot be added: {exc}") from exc
        self.report.added_classes.append(name)
        return index

    def remap(self, label: np.ndarray, names: list[str], source: str) -> np.ndarray:
        """A source label map (values index ``names``) rewritten to project indices by name."""
        counts = label_counts(label)
        table = np.arange(256, dtype=np.uint8)
        for value in np.flatnonzero(counts).tolist():
            if value == IGNORE_INDEX:
                continue
            if value >= len(names):
                raise MaskError(f"{source}: value {value} is not one of the {len(names)} classes of the dataset")
            table[value] = self.index_for(names[value]) if value else 0
        return np.take(table, label)

    # --------------------------------------------------------------------------------- writing

    def mask_path(self, stem: str) -> Path:
        return self.save_dir / f"{stem}.png"

    def should_skip(self, stem: str, image_path: Path) -> bool:
        """True (and the skip reported) when ``stem``'s mask exists and may not be replaced; raises
        when that mask would be the image itself (a PNG photo in the save folder)."""
        if self.mask_path(stem).resolve() == Path(image_path).resolve():
            raise AnnotationFormatError(f"{image_path}: its mask would replace the image; choose another save folder")
        if self.overwrite or not self.mask_path(stem).exists():
            return False
        self.report.skipped.append(f"{self.mask_path(stem).name} exists: kept (--overwrite replaces it)")
        return True

    def write(self, stem: str, label: np.ndarray, image_path: Path, source: str) -> None:
        """Save ``label`` as ``<stem>.png`` (and its XML where none exists) after checking it fits
        its image; an existing mask is skipped unless overwriting."""
        if stem in self._stems:
            raise AnnotationFormatError(f"{source}: its mask {stem}.png was already written from {self._stems[stem]}")
        path = self.mask_path(stem)
        if self.should_skip(stem, image_path):
            return
        width, height = image_size(image_path)
        if label.shape != (height, width):
            raise MaskError(f"{source}: mask is {label.shape[1]}×{label.shape[0]} but {image_path} is {width}×{height}")
        write_mask(path, label, self.classes.colour_table())
        xml_path = self.save_dir / f"{stem}.xml"
        if not xml_path.exists():
            write_annotation(xml_path, annotation_from_mask(label, image_path, self.classes))
        self._stems[stem] = source
        self.report.written.append(path)

    def finish(self) -> BatchReport:
        """Write ``classes.txt`` when it is new or names were appended; returns the report."""
        if self.report.added_classes or not self._classes_on_disk:
            save_class_file(self.class_path, self.classes)
        return self.report
