"""Rewriting every mask of a project after a class was deleted, moved or renamed (no Qt, no torch).

Two phases, so that an error or a cancel leaves the project as it was: first every new mask, XML,
``classes.txt`` and ``project.json`` is written to a temporary next to its target (the slow part:
decode, remap, encode; ``core.atomic.write_temporary``), then a journal listing the renames is
written and all temporaries replace their targets (fast renames). A crash during the renames is
finished when the project is next opened (``core.journal``). The window runs this on a worker
thread behind a progress dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from segstudio.core import project_file
from segstudio.core.atomic import write_temporary
from segstudio.core.classes import apply_remap, class_file_text
from segstudio.core.errors import SaveError, SegStudioError
from segstudio.core.journal import TEMP_SUFFIX, apply_renames, write_journal
from segstudio.core.masks import encode_mask_png, read_mask
from segstudio.core.project import Project
from segstudio.core.voc_xml import annotation_from_mask, annotation_to_xml

IDENTITY = np.arange(256, dtype=np.uint8)


class Cancelled(Exception):
    """The user stopped the rewrite before anything was replaced."""


def is_identity(lut: np.ndarray) -> bool:
    """True when ``lut`` renumbers nothing (a rename): masks need no rewrite, only the class file."""
    return bool(np.array_equal(lut, IDENTITY))


def _stage(target: Path, data: bytes) -> Path:
    """One of our rewrite temporaries next to ``target`` (the name the journal accepts)."""
    return write_temporary(target, data, TEMP_SUFFIX)


def rewrite_project(
    project: Project,
    lut: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Remap every saved mask of ``project`` through ``lut`` and rewrite masks, XML and classes.txt.

    ``project.classes`` must already be the new class list. Returns the number of masks rewritten.
    Raises SaveError / MaskError (nothing replaced) or Cancelled. With an identity ``lut`` (a
    rename) only the XML files and classes.txt are rewritten.
    """
    identity = is_identity(lut)
    entries = project.labelled_entries()
    colours = project.classes.colour_table()
    staged: list[tuple[Path, Path]] = []
    try:
        for done, entry in enumerate(entries):
            if should_stop is not None and should_stop():
                raise Cancelled()
            label = apply_remap(read_mask(entry.mask_path), lut)
            if not identity:
                staged.append((_stage(entry.mask_path, encode_mask_png(label, colours)), entry.mask_path))
            annotation = annotation_from_mask(label, entry.image_path, project.classes, project.is_verified(entry))
            staged.append((_stage(entry.xml_path, annotation_to_xml(annotation)), entry.xml_path))
            if progress is not None:
                progress(done + 1, len(entries))
        project.save_dir.mkdir(parents=True, exist_ok=True)
        staged.append((_stage(project.class_path, class_file_text(project.classes).encode("utf-8")),
                       project.class_path))
        settings_text, settings = _recorded_settings(project)
        staged.append((_stage(project.settings_path, settings_text.encode("utf-8")), project.settings_path))
        write_journal(project.save_dir, staged)
    except BaseException as exc:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise SaveError(f"cannot rewrite the masks in {project.save_dir}: {exc.strerror or exc}") from exc
        raise
    try:
        apply_renames(project.save_dir, staged)
    except OSError as exc:  # the journal stays: the next open of the project finishes the renames
        raise SaveError(f"cannot replace the masks in {project.save_dir}: {exc.strerror or exc}") from exc
    project.settings = settings
    return len(entries)


def _recorded_settings(project: Project) -> tuple[str, dict]:
    """project.json recording the new class list, replaced together with classes.txt and the
    masks (so that a crash cannot leave a record that disagrees with them)."""
    project.settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings = {**project.settings, project_file.CLASS_LIST_KEY: list(project.classes.names)}
    return project_file.settings_text(project.save_dir, settings)


INTERRUPTED = "interrupted"  # the pools shut down (the window closed) before the rewrite ran


def outcome(future: Future) -> str | None:
    """A finished rewrite's answer: None on success, "" when the user cancelled it, else the
    one-line reason (nothing on disk was changed, or the journal finishes it at the next open)."""
    if future.cancelled():
        return INTERRUPTED
    error = future.exception()
    if error is None:
        return None
    if isinstance(error, Cancelled):
        return ""
    if isinstance(error, (SegStudioError, OSError)):
        return str(error)
    return f"{type(error).__name__}: {error}"
