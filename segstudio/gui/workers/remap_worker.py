"""Rewriting every mask of a project after a class was deleted, moved or renamed.

Two phases, so that an error or a cancel leaves the project as it was: first every new mask, XML and
``classes.txt`` is written to a temporary file next to its target (the slow part: decode, remap,
encode), then a journal listing the renames is written and all temporary files replace their targets
(fast renames). A crash during the renames is finished when the project is next opened
(``core.journal``). The work runs
on a QThread with a progress dialog; ``rewrite_project`` itself has no Qt and is tested directly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from segstudio.core import project_file
from segstudio.core.classes import apply_remap
from segstudio.core.errors import SaveError, SegStudioError
from segstudio.core.atomic import temporary_next_to
from segstudio.core.journal import TEMP_SUFFIX, apply_renames, write_journal
from segstudio.core.masks import encode_mask_png, read_mask
from segstudio.core.voc_xml import annotation_from_mask, annotation_to_xml


class Cancelled(Exception):
    """The user stopped the rewrite before anything was replaced."""


def _temp_next_to(target: Path, data: bytes) -> Path:
    """Write ``data`` to one of our rewrite temporaries next to ``target`` (the name the journal
    accepts, the target's permissions: core.atomic makes it)."""
    fd, name = temporary_next_to(target, TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def rewrite_project(
    project,
    lut: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Remap every saved mask of ``project`` through ``lut`` and rewrite masks, XML and classes.txt.

    ``project.classes`` must already be the new class list. Returns the number of masks rewritten.
    Raises SaveError / MaskError (nothing replaced) or Cancelled. With an identity ``lut`` (a
    rename) only the XML files and classes.txt are rewritten.
    """
    identity = bool(np.array_equal(lut, np.arange(256, dtype=np.uint8)))
    entries = project.labelled_entries()
    colours = project.classes.colour_table()
    staged: list[tuple[Path, Path]] = []
    try:
        for done, entry in enumerate(entries):
            if should_stop is not None and should_stop():
                raise Cancelled()
            label = apply_remap(read_mask(entry.mask_path), lut)
            if not identity:
                staged.append((_temp_next_to(entry.mask_path, encode_mask_png(label, colours)), entry.mask_path))
            annotation = annotation_from_mask(label, entry.image_path, project.classes, project.is_verified(entry))
            staged.append((_temp_next_to(entry.xml_path, annotation_to_xml(annotation)), entry.xml_path))
            if progress is not None:
                progress(done + 1, len(entries))
        project.save_dir.mkdir(parents=True, exist_ok=True)
        classes_text = "".join(f"{name}\n" for name in project.classes.names).encode("utf-8")
        staged.append((_temp_next_to(project.class_path, classes_text), project.class_path))
        settings = _recorded_settings(project)
        staged.append((_temp_next_to(project.settings_path, settings[0].encode("utf-8")), project.settings_path))
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
    project.settings = settings[1]
    return len(entries)


def _recorded_settings(project) -> tuple[str, dict]:
    """project.json recording the new class list, replaced together with classes.txt and the
    masks (so that a crash cannot leave a record that disagrees with them)."""
    project.settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings = {**project.settings, project_file.CLASS_LIST_KEY: list(project.classes.names)}
    return project_file.settings_text(project.save_dir, settings)


class _Worker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # None on success, else the error message ("" when cancelled)

    def __init__(self, project, lut) -> None:
        super().__init__()
        self.project, self.lut, self.stop = project, lut, False

    def run(self) -> None:
        try:
            rewrite_project(self.project, self.lut, self.progress.emit, lambda: self.stop)
            self.finished.emit(None)
        except Cancelled:
            self.finished.emit("")
        except (SegStudioError, OSError) as exc:
            self.finished.emit(str(exc))


class _Receiver(QObject):
    """Lives in the GUI thread so the worker's signals arrive there (queued), never in the worker."""

    def __init__(self, dialog: QProgressDialog, loop: QEventLoop) -> None:
        super().__init__()
        self.dialog, self.loop, self.result = dialog, loop, []

    @Slot(int, int)
    def on_progress(self, done: int, total: int) -> None:
        self.dialog.setValue(done)

    @Slot(object)
    def on_finished(self, message) -> None:
        self.result.append(message)
        self.loop.quit()


def run_with_progress(parent: QWidget | None, project, lut: np.ndarray, title: str) -> str | None:
    """Rewrite the project off the GUI thread while a progress dialog runs; returns the error
    message (``""`` when cancelled) or None on success. The GUI stays responsive meanwhile."""
    dialog = QProgressDialog(title, "Cancel", 0, max(1, len(project.labelled_entries())), parent)
    dialog.setWindowTitle("Rewriting masks")
    dialog.setMinimumDuration(300)
    thread = QThread()
    worker = _Worker(project, lut)
    worker.moveToThread(thread)
    loop = QEventLoop()
    receiver = _Receiver(dialog, loop)
    result = receiver.result
    worker.progress.connect(receiver.on_progress)
    worker.finished.connect(receiver.on_finished)
    dialog.canceled.connect(lambda: setattr(worker, "stop", True))
    thread.started.connect(worker.run)
    thread.start()
    loop.exec()
    thread.quit()
    thread.wait()
    dialog.reset()
    dialog.deleteLater()
    return result[0] if result else "interrupted"
