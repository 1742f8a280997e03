"""The open project and the image being edited: load, save, autosave, recovery copies, prefetch.

No widgets here: the window asks questions through callables (``ask_restore``, ``ask_unsaved``) and
listens to signals. Writes run on one background thread, in order, from a snapshot of the label
map, so the GUI never waits for PNG encoding; a failed write keeps the snapshot in memory (the image
stays dirty, also after moving on) and is reported through ``save_failed``.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from segstudio.core.document import Document
from segstudio.core.errors import SegStudioError
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.project import Project

from .image_loader import LoadedImage, load_for_display, prepare_document

RECOVERY_FOLDER = ".segstudio-recovery"
SAVE_DELAY_MS = 1000  # a finished stroke reaches the disk within ~1-2 s


class Session(QObject):
    """Current project, current image and its Document; all file traffic of the window."""

    project_opened = Signal()
    image_loaded = Signal(object)  # LoadedImage
    dirty_changed = Signal(bool)
    save_state = Signal(str)  # "saved", "saving…", "unsaved changes", "save failed"
    save_failed = Signal(str)
    entry_changed = Signal(int)  # labelled/verified state of this entry may have changed
    load_failed = Signal(str)
    _write_done = Signal(object)  # from the writer thread: (job, error message or None)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.index = -1
        self.current: LoadedImage | None = None
        self.document: Document | None = None
        self.verified = False
        self.autosave = True
        self.ask_restore: Callable[[Path], bool] = lambda path: True
        self.ask_unsaved: Callable[[], str] = lambda: "save"  # "save" | "discard" | "cancel"
        self.overlay_lut: np.ndarray | None = None  # mask colours, so loaders colour the overlay too
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="segstudio-load")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="segstudio-save")
        self._prefetch: dict[int, Future] = {}
        self._writes: list[Future] = []
        self._pending: dict[Path, np.ndarray] = {}  # snapshots not (yet) on disk, by image path
        self._generation: dict[Path, int] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self._delayed_write)
        self._write_done.connect(self._on_write_done)

    # --- project ---------------------------------------------------------------------------------
    def open_project(self, image_dir, class_file=None, save_dir=None) -> Project:
        """Open a folder (raises SegStudioError); the first image is loaded by the caller."""
        if not self.leave_current():
            raise SegStudioError("the current image has unsaved changes")
        project = Project(image_dir, save_dir=save_dir, class_file=class_file)
        self._drop_prefetch()
        self.project = project
        self.index = -1
        self.current = None
        self._set_document(None)
        self._pending.clear()
        self.project_opened.emit()
        return project

    def set_save_dir(self, save_dir) -> Project:
        project = self.project
        if project is None:
            raise SegStudioError("open a folder first")
        index = self.index
        self.open_project(project.image_dir, None, save_dir)
        if self.project.entries:
            self.load_index(max(0, index))
        return self.project

    @property
    def entry(self):
        return self.current.entry if self.current is not None else None

    def has_unsaved_snapshots(self) -> bool:
        """True when some image's edits are only in memory (a save failed or is still running)."""
        return bool(self._pending)

    @property
    def dirty(self) -> bool:
        return self.document is not None and self.document.dirty

    # --- navigation ------------------------------------------------------------------------------
    def load_index(self, index: int) -> bool:
        """Show image ``index``; False when it cannot be shown (or the user cancelled)."""
        project = self.project
        if project is None or not 0 <= index < len(project.entries):
            return False
        if index == self.index and self.current is not None:
            return True
        if not self.leave_current():
            return False
        try:
            loaded = self._take_loaded(index)
        except SegStudioError as exc:
            self.load_failed.emit(str(exc))
            return False
        self._show(loaded)
        self._schedule_prefetch(index)
        return True

    def is_prefetched(self, index: int) -> bool:
        """True when image ``index`` is loaded (or loading) in the background already."""
        future = self._prefetch.get(index)
        return future is not None and future.done()

    def next(self) -> bool:
        return self.load_index(self.index + 1)

    def previous(self) -> bool:
        return self.load_index(self.index - 1)

    def reload_current(self) -> None:
        """Read the current image's mask again (after a class remap rewrote it)."""
        index = self.index
        self._drop_prefetch()
        self.current, self.index = None, -1
        self._set_document(None)
        self.load_index(index)

    def _take_loaded(self, index: int) -> LoadedImage:
        future = self._prefetch.pop(index, None)
        entry = self.project.entries[index]
        loaded = future.result() if future is not None else None
        generation = self._generation.get(entry.image_path, 0)
        if loaded is None or loaded.entry != entry:
            loaded = load_for_display(self.project, index, generation, self.overlay_lut)
        elif loaded.generation != generation:
            # A save finished after the prefetch read the mask: read it again.
            loaded.label, loaded.mask_error = self._read_mask(entry)
            prepare_document(loaded, self.overlay_lut)
        return loaded

    def _read_mask(self, entry):
        try:
            return self.project.load_mask(entry), None
        except SegStudioError as exc:
            return None, str(exc)

    def _show(self, loaded: LoadedImage) -> None:
        entry = loaded.entry
        self.current, self.index = loaded, loaded.index
        self.verified = bool(self.project.is_verified(entry))
        document = loaded.document
        pending = self._pending.get(entry.image_path)
        if pending is not None and pending.shape == document.label.shape:
            document.set_label(pending)  # edits whose save failed or is still running
            loaded.overlay = loaded.counts = None  # out of date
        self._set_document(document)
        self.image_loaded.emit(loaded)
        self._offer_recovery(entry)
        self._emit_state()

    def _set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.remove_listener(self._on_edit)
        self.document = document
        if document is not None:
            document.add_listener(self._on_edit)

    def _schedule_prefetch(self, index: int) -> None:
        wanted = [i for i in (index + 1, index - 1) if 0 <= i < len(self.project.entries)]
        for stale in [i for i in self._prefetch if i not in wanted]:
            self._prefetch.pop(stale).cancel()
        for i in wanted:
            if i not in self._prefetch:
                generation = self._generation.get(self.project.entries[i].image_path, 0)
                self._prefetch[i] = self._loader.submit(self._safe_load, self.project, i, generation, self.overlay_lut)

    @staticmethod
    def _safe_load(project, index, generation, lut):
        try:
            return load_for_display(project, index, generation, lut)
        except SegStudioError:
            return None  # loaded again in the GUI thread, which reports the error

    def _drop_prefetch(self) -> None:
        for future in self._prefetch.values():
            future.cancel()
        self._prefetch.clear()

    # --- leaving an image --------------------------------------------------------------------------
    def leave_current(self) -> bool:
        """Save (autosave) or ask before the current image goes away; False to stay."""
        self._timer.stop()
        if not self.dirty:
            return True
        if self.autosave:
            self.save_async()
            return True
        answer = self.ask_unsaved()
        if answer == "cancel":
            return False
        if answer == "save":
            self.save_async()
        else:
            self._pending.pop(self.entry.image_path, None)
            self._remove_recovery(self.entry)
        return True

    # --- saving ------------------------------------------------------------------------------------
    def save_async(self, verified: bool | None = None) -> None:
        """Write the current mask and XML on the writer thread (snapshot taken now)."""
        if self.document is None:
            return
        if verified is not None:
            self.verified = verified
        self._timer.stop()
        entry = self.entry
        label = self.document.label.copy()
        self._pending[entry.image_path] = label
        job = {"kind": "save", "entry": entry, "label": label, "verified": self.verified,
               "document": self.document, "revision": self.document.revision, "index": self.index}
        self._submit(job)

    def toggle_verified(self) -> None:
        if self.document is not None:
            self.save_async(verified=not self.verified)

    def flush(self, timeout: float = 60.0) -> None:
        """Wait for queued writes and deliver their results (close, tests, class remaps)."""
        if self._timer.isActive():
            self._delayed_write()
        for future in list(self._writes):
            try:
                future.result(timeout)
            except Exception:  # reported through _write_done
                pass
        QCoreApplication.processEvents()
        self._writes = [f for f in self._writes if not f.done()]

    def shutdown(self) -> None:
        self.flush()
        self._drop_prefetch()
        self._loader.shutdown(wait=False, cancel_futures=True)
        self._writer.shutdown(wait=True)

    def _on_edit(self, rect) -> None:
        self._emit_state()

    def edit_finished(self) -> None:
        """A gesture ended: write the mask (autosave) or a recovery copy within ~2 s."""
        self._timer.start()
        self._emit_state()

    def _delayed_write(self) -> None:
        self._timer.stop()
        if not self.dirty:
            return
        if self.autosave:
            self.save_async()
            return
        job = {"kind": "recovery", "entry": self.entry, "label": self.document.label.copy(),
               "colours": self.project.classes.colour_table()}
        self._submit(job)

    def _submit(self, job: dict) -> None:
        self.save_state.emit("saving…")
        future = self._writer.submit(self._run_job, job)
        self._writes.append(future)

    def _run_job(self, job: dict) -> None:
        """Writer thread: perform one write; the result goes back to the GUI thread by signal."""
        error = None
        try:
            if job["kind"] == "save":
                self.project.save(job["entry"], job["label"], verified=job["verified"])
                self._remove_recovery(job["entry"])
            else:
                path = self.recovery_path(job["entry"])
                path.parent.mkdir(parents=True, exist_ok=True)
                write_mask(path, job["label"], job["colours"])
        except (SegStudioError, OSError) as exc:
            error = str(exc)
        self._write_done.emit((job, error))

    def _on_write_done(self, result) -> None:
        job, error = result
        entry = job["entry"]
        if job["kind"] == "save":
            # Counted when the write is over (in this thread), so a prefetch that began earlier
            # may hold the old mask and will read it again (see _take_loaded).
            self._generation[entry.image_path] = self._generation.get(entry.image_path, 0) + 1
            if error is None and self._pending.get(entry.image_path) is job["label"]:
                del self._pending[entry.image_path]
            document = job["document"]
            if error is None and document is self.document and document.revision == job["revision"]:
                document.mark_saved()
            self.entry_changed.emit(job["index"])
        if error is not None:
            self.save_failed.emit(error)
        self._emit_state(error)

    def _emit_state(self, error: str | None = None) -> None:
        self.dirty_changed.emit(self.dirty)
        if error is not None:
            self.save_state.emit("save failed")
        elif self._pending_writes():
            self.save_state.emit("saving…")
        elif self.dirty:
            self.save_state.emit("unsaved changes")
        elif self._pending:
            self.save_state.emit(f"{len(self._pending)} other image(s) not saved")
        else:
            self.save_state.emit("saved")

    def _pending_writes(self) -> bool:
        self._writes = [f for f in self._writes if not f.done()]
        return bool(self._writes)

    # --- recovery copies -----------------------------------------------------------------------------
    def recovery_path(self, entry) -> Path:
        return Path(self.project.save_dir) / RECOVERY_FOLDER / f"{entry.stem}.png"

    def _remove_recovery(self, entry) -> None:
        try:
            os.unlink(self.recovery_path(entry))
        except OSError:
            pass

    def _offer_recovery(self, entry) -> None:
        path = self.recovery_path(entry)
        if not path.is_file():
            return
        mask_path = Path(entry.mask_path)
        if mask_path.is_file() and mask_path.stat().st_mtime > path.stat().st_mtime:
            self._remove_recovery(entry)  # the mask was saved after the copy: the copy is stale
            return
        try:
            label = read_mask(path)
        except SegStudioError:
            self._remove_recovery(entry)
            return
        if label.shape != self.document.label.shape or not self.ask_restore(path):
            self._remove_recovery(entry)
            return
        self.document.set_label(label)
        self.edit_finished()  # restored edits reach the mask (autosave) like any other edit
