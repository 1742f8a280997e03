"""Where an import writes: a project's save folder, with the rules that keep the user's files.

- An existing mask is never replaced silently: it is skipped and named in the report unless the
  import runs with ``overwrite``; a read-only one is kept even then.
- The class list follows :mod:`segstudio.core.import_classes`: ``classes.txt`` is only ever
  extended (imported labels map onto existing indices by name, new names are appended) and
  written before the first mask that uses a new name; a project without one takes the dataset's
  class list in its order, so the indices stay those of the dataset; a name that cannot be a class
  is refused and its shapes skipped (pixels of a mask: marked ignore), each file naming them.
- A VOC XML already next to a mask (labelImg's boxes, say) is left as it is; one is written only
  where none exists.
- Mask file names come from image names reduced to a plain stem, so nothing is written outside
  the save folder whatever the source file names say; two images of one import that would share
  a mask are refused, the second named.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_bytes
from ..batch import BatchReport
from ..classes import ClassList
from ..errors import AnnotationFormatError, MaskError
from ..images import IMAGE_EXTENSIONS, MAX_PIXELS, image_size
from ..import_classes import CLASS_FILE_NAME, ImportClasses, skipped_line
from ..masks import label_counts, write_mask
from ..palette import IGNORE_INDEX
from ..paths import is_read_only
from ..portable_names import name_key
from ..voc_xml import annotation_from_mask, annotation_to_xml

__all__ = ["CLASS_FILE_NAME", "ImportTarget", "check_size", "image_for_stem", "plain_stem", "relative_inside"]


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
            if os.path.lexists(candidate):  # a pipe or a folder is named by the reader, not ignored
                return candidate
    return None


def check_size(width: object, height: object, source: str) -> tuple[int, int]:
    """A (width, height) from a dataset file, as ints, refused when absurd."""
    try:
        w, h = int(width), int(height)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: infinity
        raise AnnotationFormatError(f"{source}: image width/height are not numbers") from exc
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
        raise AnnotationFormatError(f"{source}: image size {w}×{h} is not usable")
    return w, h


class ImportTarget:
    """A project's save folder receiving imported masks (see the module docstring for the rules)."""

    def __init__(
        self,
        save_dir: str | os.PathLike,
        overwrite: bool = False,
        dataset_names: Sequence[object] | None = None,
        names_source: str = "the dataset",
    ) -> None:
        """``dataset_names`` seed the class list of a new project (``names_source`` names where they
        come from in warnings)."""
        self.save_dir = Path(save_dir)
        self.save_dir.mkdir(parents=True, exist_ok=True)
        self.overwrite = overwrite
        self.report = BatchReport()
        self.class_list = ImportClasses(self.save_dir, self.report.warnings, self.report.added_classes)
        self.class_list.seed(dataset_names or [], names_source)
        # Masks written by this import, by name_key: Cat.png and cat.png are one file on Windows and macOS.
        self._stems: dict[str, str] = {}

    @property
    def classes(self) -> ClassList:
        return self.class_list.classes

    # ---------------------------------------------------------------------------- class mapping

    def value_for(self, name: object, source: str, skipped: Counter) -> int | None:
        """Project index of class ``name`` (appended when new); None when the name is refused, the
        shape then counted in ``skipped`` for :meth:`note_skipped`."""
        value = self.class_list.value_for(name, source)
        if value is None:
            skipped[f"refused class {name!r}"[:80]] += 1
        return value

    def note_skipped(self, where: str, skipped: Counter) -> None:
        """One warning for the shapes of ``where`` whose classes were refused."""
        line = skipped_line(where, skipped)
        if line is not None:
            self.report.warnings.append(line)

    def remap(self, label: np.ndarray, names: Sequence[object], source: str) -> np.ndarray:
        """A source label map (values index ``names``) rewritten to project indices by name; the
        pixels of a refused class become the ignore label (not background: they are not known)."""
        counts = label_counts(label)
        table = np.arange(256, dtype=np.uint8)
        refused: Counter = Counter()
        for value in np.flatnonzero(counts).tolist():
            if value in (0, IGNORE_INDEX):
                continue
            if value >= len(names):
                raise MaskError(f"{source}: value {value} is not one of the {len(names)} classes of the dataset")
            index = self.class_list.value_for(names[value], source)
            if index is None:
                refused[str(names[value])] += int(counts[value])
            table[value] = IGNORE_INDEX if index is None else index
        if refused:
            shown = ", ".join(f"{count} of {name!r}" for name, count in refused.most_common(5))
            self.report.warnings.append(f"{source}: pixels of refused classes marked ignore (255): {shown}")
        return np.take(table, label)

    # --------------------------------------------------------------------------------- writing

    def mask_path(self, stem: str) -> Path:
        return self.save_dir / f"{stem}.png"

    def should_skip(self, stem: str, image_path: Path) -> bool:
        """True (and the skip reported) when ``stem``'s mask exists and may not be replaced; raises
        when that mask would be the image itself (a PNG photo in the save folder) or was already
        the mask of another image of this import (names that differ only by case count as one)."""
        path = self.mask_path(stem)
        if name_key(stem) in self._stems:
            raise AnnotationFormatError(
                f"{image_path}: its mask {path.name} is already that of {self._stems[name_key(stem)]} in this "
                "import (or would be, on Windows and macOS, which ignore case); rename one of the images")
        if path.resolve() == Path(image_path).resolve():
            raise AnnotationFormatError(f"{image_path}: its mask would replace the image; choose another save folder")
        if not os.path.lexists(path):
            return False
        if self.overwrite and not is_read_only(path):
            return False
        why = "is read-only: kept" if self.overwrite else "exists: kept (--overwrite replaces it)"
        self.report.skipped.append(f"{path.name} {why}")
        self._stems[name_key(stem)] = str(image_path)
        return True

    def write(self, stem: str, label: np.ndarray, image_path: Path, source: str) -> None:
        """Save ``label`` as ``<stem>.png`` (and its XML where none exists) after checking it fits
        its image; an existing mask is skipped unless overwriting. ``classes.txt`` is brought up to
        date first, so the mask never holds a class it does not list."""
        if self.should_skip(stem, image_path):
            return
        width, height = image_size(image_path)
        if label.shape != (height, width):
            raise MaskError(f"{source}: mask is {label.shape[1]}×{label.shape[0]} but {image_path} is {width}×{height}")
        xml_path = self.save_dir / f"{stem}.xml"
        xml = None if os.path.lexists(xml_path) else annotation_to_xml(
            annotation_from_mask(label, image_path, self.classes))
        self.class_list.save()
        write_mask(self.mask_path(stem), label, self.classes.colour_table())
        self._stems[name_key(stem)] = str(image_path)
        if xml is not None:
            atomic_write_bytes(xml_path, xml)
        self.report.written.append(self.mask_path(stem))

    def finish(self) -> BatchReport:
        """Write ``classes.txt`` when it is new or names were appended; returns the report."""
        self.class_list.save()
        return self.report
