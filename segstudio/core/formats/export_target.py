"""What an export reads (a project's labelled images) and where it may write (OUT, never the project).

:func:`prepare_out` refuses an OUT that is, contains or lies inside the image or save folder, and
an existing non-empty OUT unless ``overwrite``; :func:`out_folder` creates sub-folders and refuses
one that a link sends elsewhere. Files are written atomically; nothing in OUT is deleted.
"""

from __future__ import annotations

import io
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import atomic_write_bytes
from ..classes import ClassList
from ..errors import ImageLoadError, SaveError
from ..images import load_image
from ..project import ImageEntry, Project


@dataclass
class ExportSource:
    """The labelled images of a project and its classes."""

    project: Project
    entries: list[ImageEntry]

    @property
    def classes(self) -> ClassList:
        return self.project.classes

    def out_root(self, out: str | os.PathLike, overwrite: bool = False) -> Path:
        """OUT, created, once it is known to overlap neither the image nor the save folder."""
        return prepare_out(out, [self.project.image_dir, self.project.save_dir], overwrite)

    def mask(self, entry: ImageEntry) -> np.ndarray:
        """The checked label map of ``entry`` (size and classes; errors name the file)."""
        label = self.project.load_mask(entry)
        assert label is not None  # entries are labelled ones
        return label


def export_source(save_dir: str | os.PathLike, image_dir: str | os.PathLike) -> ExportSource:
    """The project of ``image_dir`` + ``save_dir``, restricted to images that have a mask."""
    project = Project(image_dir, save_dir, read_only=True)  # an export writes only into OUT
    entries, stems = [], set()
    for entry in project.labelled_entries():
        if entry.stem not in stems:  # two images sharing one mask: the first one is exported
            stems.add(entry.stem)
            entries.append(entry)
    return ExportSource(project, entries)


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def prepare_out(out: str | os.PathLike, protected: list[Path], overwrite: bool = False) -> Path:
    """Create OUT (resolved) after checking it is safe to write there."""
    target = Path(out).resolve()
    for folder in protected:
        if _overlaps(target, Path(folder).resolve()):
            raise SaveError(f"cannot export to {out}: it overlaps the project folder {folder}")
    if target.exists() and not target.is_dir():
        raise SaveError(f"cannot export to {out}: it is a file")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise SaveError(f"{out} is not empty; choose an empty folder or pass --overwrite")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveError(f"cannot create {out}: {exc.strerror or exc}") from exc
    return target


def out_folder(out: Path, *parts: str) -> Path:
    """``out/parts...``, created one level at a time; a level that a link sends outside OUT is
    refused before anything is created through it."""
    folder = out
    for part in parts:
        folder = folder / part
        if (folder.exists() or folder.is_symlink()) and not folder.resolve().is_relative_to(out):
            raise SaveError(f"{folder} leads outside {out} (a link?); not writing there")
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise SaveError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    return folder


def split_entries(entries: list[ImageEntry], val: float, seed: int = 0) -> tuple[list[ImageEntry], list[ImageEntry]]:
    """(train, val): a seeded random ``val`` fraction (rounded, at least one when asked and there are
    two or more images) for validation, both in the project's order."""
    if not 0.0 <= val < 1.0:
        raise SaveError(f"--val must be in [0, 1), got {val}")
    count = round(len(entries) * val)
    if val > 0 and len(entries) >= 2:
        count = min(max(count, 1), len(entries) - 1)
    chosen = set(random.Random(seed).sample(range(len(entries)), count))
    train = [e for i, e in enumerate(entries) if i not in chosen]
    return train, [e for i, e in enumerate(entries) if i in chosen]


def _orientation(path: Path) -> tuple[str, int]:
    try:
        with Image.open(path) as image:
            try:
                orientation = int(image.getexif().get(0x0112, 1))
            except Exception:  # a broken EXIF block: the loader shows the pixels as stored
                orientation = 1
            return (image.format or "").upper(), orientation
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"cannot read image {path}: {exc}") from exc


def export_image(path: Path, folder: Path, stem: str, jpeg: bool = False) -> str:
    """Put the image of a mask into ``folder``; returns its file name there.

    The file is copied byte for byte when its pixels are what the mask was painted on; an image
    with an EXIF rotation (the mask follows the rotated view) or a non-JPEG when ``jpeg`` is asked
    is written again from the decoded pixels (JPEG quality 95, or PNG).
    """
    fmt, orientation = _orientation(path)
    if orientation == 1 and (not jpeg or fmt == "JPEG"):
        suffix = ".jpg" if fmt == "JPEG" and jpeg else path.suffix.lower()
        name = f"{stem}{suffix}"
        atomic_write_bytes(folder / name, path.read_bytes())
        return name
    rgb = load_image(path)
    buffer = io.BytesIO()
    if jpeg:
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
        name = f"{stem}.jpg"
    else:
        Image.fromarray(rgb).save(buffer, format="PNG")
        name = f"{stem}.png"
    atomic_write_bytes(folder / name, buffer.getvalue())
    return name
