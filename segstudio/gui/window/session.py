"""The open project and the image being edited: load, save, autosave, recovery copies, prefetch.

No widgets here: the window asks questions through callables (``ask_restore``, ``ask_unsaved``) and
listens to signals. Images load on loader threads (see load_queue), so switching images never
blocks the GUI: ``loading_started`` says which image is coming, ``image_loaded`` brings it. Writes run on one background thread, in order, from a snapshot of the label
map, so the GUI never waits for PNG encoding; a failed write keeps the snapshot in memory (the image
stays dirty, also after moving on) and is reported through ``save_failed``.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, Signal

from segstudio.core import mask_repair, project_lock, recovery
from segstudio.core.classes import apply_remap
from segstudio.core.document import Document
from segstudio.core.errors import SegStudioError
from segstudio.core.paths import STATE_FOLDER, replace_linked_folder
from segstudio.core.project import Project

from segstudio.gui.workers.image_loader import LoadedImage, load_for_display, reload_mask
from segstudio.gui.workers.load_queue import LoadQueue

RECOVERY_FOLDER = recovery.RECOVERY_FOLDER
SAVE_DELAY_MS = 1000  # a finished stroke reaches the disk within ~1-2 s
HELD_STATE = "mask not loaded: read-only"


class Session(QObject):
    """Current project, current image and its Document; all file traffic of the window."""

    project_opened = Signal()
    loading_started = Signal(int)  # index of the image now being loaded (no document meanwhile)
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
        self.open_warnings: list[str] = []  # said once when the project opens (links replaced...)
        self.read_only: str | None = None  # why nothing is written: the project is open elsewhere
        self._lock: project_lock.ProjectLock | None = None
        self.index = -1
        self.current: LoadedImage | None = None
        self.document: Document | None = None
        self.verified = False
        self.autosave = True
        self.ask_restore: Callable[[Path], bool] = lambda path: True
        self.ask_unsaved: Callable[[], str] = lambda: "save"  # "save" | "discard" | "cancel"
        self.overlay_lut: np.ndarray | None = None  # mask colours, so loaders colour the overlay too
        self._queue = LoadQueue(self)
        self._queue.loaded.connect(self._on_loaded)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="segstudio-save")
        self._writes: list[Future] = []
        self._outstanding = 0  # writes submitted whose result has not been delivered yet
        self._pending: dict[Path, np.ndarray] = {}  # snapshots not (yet) on disk, by image path
        self._generation: dict[Path, int] = {}  # saves finished per image (a load must see them)
        self._epoch = 0  # bumped when masks were rewritten on disk (class remap)
        self._previous: LoadedImage | None = None  # shown again if the requested image fails
        self.writes_held = False  # a class rewrite is running: no saves, no image switches
        self._held_result = None  # an image that arrived during a class rewrite (read again after)
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
        folder = Path(save_dir if save_dir is not None else image_dir).resolve()
        warnings = _replace_linked_state_folders(folder)
        # The lock first: a project open elsewhere is opened without writing a byte.
        lock, read_only = self._lock_for(folder, warnings)
        try:
            project = Project(image_dir, save_dir=save_dir, class_file=class_file, read_only=bool(read_only))
        except BaseException:
            if lock is not None and lock is not self._lock:
                lock.release()  # the project open before keeps its own lock
            raise
        if lock is not self._lock:
            self.release_lock()
        self._lock, self.read_only, self.open_warnings = lock, read_only, warnings
        self._queue.cancel()
        self.project = project
        self.index = -1
        self.current = None
        self._previous = None
        self._set_document(None)
        self._pending.clear()
        self.project_opened.emit()
        return project

    def _lock_for(self, save_dir: Path, warnings: list[str]):
        """(lock, read-only reason) for opening ``save_dir``: the lock this window already holds, a
        new one, or none with the reason when another window holds it."""
        if self._lock is not None and self._lock.save_dir == save_dir:
            return self._lock, self.read_only
        try:
            return project_lock.acquire(save_dir), None
        except project_lock.ProjectLocked as exc:
            reason = f"read-only: {exc}"
            warnings.append(reason)
            return None, reason
        except SegStudioError as exc:  # a read-only folder: saves will say why they fail
            warnings.append(f"the project is not locked against other windows: {exc}")
            return None, None

    def release_lock(self) -> None:
        """Let another window write this project (on close, and when another project opens)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

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

    @property
    def mask_blocked(self) -> bool:
        """True while the open image's mask file could not be used: nothing is written for this
        image (its file stays as it is) until the user chooses a repair (:meth:`repair_mask`)."""
        return self.current is not None and self.current.mask_problem is not None

    # --- navigation ------------------------------------------------------------------------------
    def load_index(self, index: int) -> bool:
        """Ask for image ``index``; False when it cannot be shown (or the user cancelled).

        The current image is saved (or the user asked) and released at once; the new one is shown
        when the loader thread has it (at once when it was prefetched), announced by
        ``loading_started`` then ``image_loaded`` (or ``load_failed``). Only the latest request
        is ever shown.
        """
        project = self.project
        if project is None or not 0 <= index < len(project.entries) or self.writes_held:
            return False
        if index == self.index and (self.current is not None or self.loading):
            return True
        if not self.leave_current():
            return False
        if self.current is not None:
            self._previous = self.current
        self.current, self.index = None, index
        self._set_document(None)
        self._queue.keep_only(set(self._neighbours(index)) | {index})
        ready = self._queue.take_ready(index)
        if ready is not None and self._is_fresh(ready, index):
            self._show(ready)
            return True
        self._queue.request(index, self._job(index), base=ready)
        if self.loading:  # (an adopted prefetch may have finished during the call)
            self.loading_started.emit(index)
        return True

    @property
    def loading(self) -> bool:
        """True while the image the user asked for is still being loaded."""
        return self._queue.busy or self._held_result is not None

    @property
    def target_entry(self):
        """The entry shown or being loaded (``entry`` is only set once the image is shown)."""
        if self.project is None or not 0 <= self.index < len(self.project.entries):
            return None
        return self.project.entries[self.index]

    def is_prefetched(self, index: int) -> bool:
        """True when image ``index`` is loaded in the background already."""
        return index in self._queue.prefetched_indices()

    def wait_loaded(self, timeout: float = 30.0) -> bool:
        """Process events until the requested image is shown (tests, scripts); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.loading and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)
        return not self.loading

    def next(self) -> bool:
        return self.load_index(self.index + 1)

    def previous(self) -> bool:
        return self.load_index(self.index - 1)

    def masks_rewritten(self, lut=None) -> None:
        """Masks on disk changed behind the session's back (class remap): forget every loaded copy.

        ``lut`` also remaps the snapshots of edits not saved yet, so they keep their meaning.
        """
        self._epoch += 1
        if lut is not None:
            for path, label in list(self._pending.items()):
                self._pending[path] = apply_remap(label, lut)
        self._queue.keep_only(set())
        if self.loading:
            self._queue.request(self.index, self._job(self.index))

    def _neighbours(self, index: int) -> list[int]:
        return [i for i in (index + 1, index - 1) if 0 <= i < len(self.project.entries)]

    def _generation_of(self, entry) -> tuple[int, int]:
        return self._epoch, self._generation.get(entry.image_path, 0)

    def _job(self, index: int):
        """A loader job for ``index`` with the state it must match, captured now (GUI thread)."""
        project, entry = self.project, self.project.entries[index]
        generation, lut = self._generation_of(entry), self.overlay_lut
        pending = self._pending.get(entry.image_path)
        recovery = self.recovery_path(entry)

        def job(base: LoadedImage | None) -> LoadedImage:
            if base is not None and base.entry == entry:
                if base.generation != generation or base.pending is not pending:
                    reload_mask(base, project, generation, lut, pending)
                loaded = base
            else:
                loaded = load_for_display(project, index, generation, lut, pending)
            loaded.recovery = _read_recovery(recovery)
            return loaded

        return job

    def _is_fresh(self, loaded: LoadedImage, index: int) -> bool:
        """True when ``loaded`` still matches the files and unsaved edits of image ``index``."""
        entry = self.project.entries[index]
        return (
            loaded.entry == entry
            and loaded.generation == self._generation_of(entry)
            and loaded.pending is self._pending.get(entry.image_path)
        )

    def _on_loaded(self, result) -> None:
        index, loaded, error = result
        if self.project is None or index != self.index:
            return
        if self.writes_held:
            self._held_result = result  # its mask may predate the rewrite: checked once it is over
            return
        if loaded is None:
            self._load_failed(error or "unknown error")
        elif not self._is_fresh(loaded, index):
            self._queue.request(index, self._job(index), base=loaded)  # saved meanwhile: read the mask again
        else:
            self._show(loaded)

    def _load_failed(self, message: str) -> None:
        """Go back to the image shown before (if any) and report."""
        previous, self._previous = self._previous, None
        if previous is not None and previous.document is not None:
            self._show(previous, offer_recovery=False)
        else:
            self.current, self.index = None, -1
        self.load_failed.emit(message)

    def _show(self, loaded: LoadedImage, offer_recovery: bool = True) -> None:
        entry = loaded.entry
        self.current, self.index = loaded, loaded.index
        self._previous = None
        self.verified = bool(self.project.is_verified(entry))
        self._set_document(loaded.document)
        self.image_loaded.emit(loaded)
        if offer_recovery:
            self._offer_recovery(loaded)
        self._emit_state()
        self._schedule_prefetch(loaded.index)

    def _set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.remove_listener(self._on_edit)
        self.document = document
        if document is not None:
            document.add_listener(self._on_edit)

    def _schedule_prefetch(self, index: int) -> None:
        """Keep exactly one image ahead and one behind loaded (older ones are freed)."""
        self._queue.prefetch({i: self._job(i) for i in self._neighbours(index)})

    def _drop_prefetch(self) -> None:
        self._queue.keep_only(set())

    # --- leaving an image --------------------------------------------------------------------------
    def leave_current(self) -> bool:
        """Save (autosave) or ask before the current image goes away; False to stay."""
        self._timer.stop()
        if not self.dirty or self.mask_blocked:
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
        if self.mask_blocked:
            self.save_state.emit(HELD_STATE)  # never write over a mask that did not load
            return
        if self.writes_held:
            self._timer.start()  # saved once the class rewrite is over
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

    def repair_mask(self, repair: str):
        """Apply the repair the user chose to the open image's unusable mask (raises SegStudioError).

        Returns the next problem (a mask may be the wrong size and hold unknown values too), or
        None once the mask fits: then the repaired map becomes an edit like any other (saved by
        autosave, undoable) and saving is allowed again. The file is first moved aside (a
        ``.bak-<time>`` backup), whatever the repair.
        """
        loaded, problem = self.current, self.current.mask_problem if self.current else None
        if problem is None or repair not in problem.repairs:
            raise SegStudioError(f"{repair!r} does not apply to this mask")
        project, document = self.project, self.document
        size = (document.width, document.height)
        if loaded.entry.mask_path.exists():
            # Every repair keeps the original beside it (<name>.bak-<time>): the repaired mask is a
            # new file, and the one the user made is never replaced, whichever repair was chosen.
            mask_repair.move_aside(loaded.entry.mask_path)
            self.entry_changed.emit(loaded.index)
        if repair == mask_repair.ADD_CLASSES:
            self._add_classes(mask_repair.classes_to_add(problem.label, len(project.classes)))
        classes = project.classes
        label = mask_repair.repaired_label(problem, repair, size, classes.colour_table(), len(classes))
        following = mask_repair.diagnose_label(label, size, len(project.classes), problem.path)
        loaded.mask_problem = following
        loaded.mask_error = following.message if following is not None else None
        if following is None:
            document.set_label(label)
            self.edit_finished()
        return following

    def _add_classes(self, names: list[str]) -> None:
        """Append classes (a mask repair) and write classes.txt; all or nothing."""
        classes = self.project.classes
        old = classes.copy()
        try:
            for name in names:
                classes.add(name)
            self.project.save_classes()
        except (SegStudioError, OSError) as exc:
            classes.names, classes.colours = old.names, old.colours
            raise SegStudioError(f"classes not added: {exc}") from exc

    def flush(self, timeout: float = 60.0) -> None:
        """Wait for queued writes and deliver their results (close, tests, class remaps)."""
        if self._timer.isActive():
            self._delayed_write()
        self.flush_writes(timeout)

    def shutdown(self) -> None:
        self.flush()
        self._queue.shutdown()
        self._writer.shutdown(wait=True)
        self.release_lock()

    @contextlib.contextmanager
    def hold_writes(self):
        """While a class rewrite runs: finish queued writes first, then write nothing and stay on
        this image (a delayed save is postponed, not lost)."""
        self._timer.stop()
        self.flush_writes()
        self.writes_held = True
        try:
            yield
        finally:
            self.writes_held = False
            held, self._held_result = self._held_result, None
            if held is not None:
                self._on_loaded(held)

    def flush_writes(self, timeout: float = 60.0) -> None:
        """Wait for the writes already queued (without starting the delayed one) and deliver their
        results, so that the save state is final when this returns."""
        deadline = time.monotonic() + timeout
        for future in list(self._writes):
            try:
                future.result(max(0.0, deadline - time.monotonic()))
            except Exception:  # reported through _write_done
                pass
        QCoreApplication.processEvents()
        while self._outstanding and time.monotonic() < deadline:  # done callbacks still on their way
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.001)
        self._writes = [f for f in self._writes if not f.done()]

    def _on_edit(self, rect) -> None:
        self._emit_state()

    def edit_finished(self) -> None:
        """A gesture ended: write the mask (autosave) or a recovery copy within ~2 s."""
        self._timer.start()
        self._emit_state()

    def _delayed_write(self) -> None:
        self._timer.stop()
        if not self.dirty or self.mask_blocked:
            return
        if self.writes_held:
            self._timer.start()
            return
        if self.autosave:
            self.save_async()
            return
        job = {"kind": "recovery", "entry": self.entry, "label": self.document.label.copy(),
               "colours": self.project.classes.colour_table()}
        self._submit(job)

    def _submit(self, job: dict) -> None:
        """Queue a write. Its result comes back once the future is done (a done callback), and the
        writes still out are counted here, so the save state never depends on the timing of the
        writer thread (it used to signal from inside the job, before its future was done)."""
        if self.read_only:  # open in another window: the edits stay in memory, nothing is written
            self._emit_state()
            return
        self._outstanding += 1
        self.save_state.emit("saving…")
        future = self._writer.submit(self._run_job, job)
        self._writes.append(future)
        future.add_done_callback(lambda done, job=job: self._write_done.emit((job, _error_of(done))))

    def _run_job(self, job: dict) -> str | None:
        """Writer thread: perform one write; returns None or the reason it failed (every failure:
        a write that raises something unexpected must still end in "save failed")."""
        try:
            if job["kind"] == "save":
                self.project.save(job["entry"], job["label"], verified=job["verified"])
                self._remove_recovery(job["entry"])
            else:
                recovery.write_copy(self.project.save_dir, job["entry"].stem, job["label"], job["colours"])
        except (SegStudioError, OSError) as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - reported to the user, never left at "saving…"
            return f"{job['entry'].image_path.name}: {type(exc).__name__}: {exc}"
        return None

    def _on_write_done(self, result) -> None:
        job, error = result
        self._outstanding -= 1
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
        if self.read_only:
            self.save_state.emit(self.read_only)
        elif error is not None:
            self.save_state.emit("save failed")
        elif self._pending_writes():
            self.save_state.emit("saving…")
        elif self.mask_blocked:
            self.save_state.emit(HELD_STATE)
        elif self.dirty:
            self.save_state.emit("unsaved changes")
        elif self._pending:
            self.save_state.emit(f"{len(self._pending)} other image(s) not saved")
        else:
            self.save_state.emit("saved")

    def _pending_writes(self) -> bool:
        """True while a queued write has not reported back (counted, not read from the futures)."""
        return self._outstanding > 0

    # --- recovery copies (core.recovery: never through a link, only copies we wrote) ---------------
    def recovery_path(self, entry) -> Path:
        return recovery.recovery_path(self.project.save_dir, entry.stem)

    def _remove_recovery(self, entry) -> None:
        if not self.read_only:  # read-only: a copy may be the other window's unsaved work
            recovery.remove_copy(self.recovery_path(entry))

    def _offer_recovery(self, loaded: LoadedImage) -> None:
        entry = loaded.entry
        path = self.recovery_path(entry)
        if self.read_only or not recovery.is_copy(path):
            return
        mask_path = Path(entry.mask_path)
        if mask_path.is_file() and mask_path.stat().st_mtime > path.stat().st_mtime:
            self._remove_recovery(entry)  # the mask was saved after the copy: the copy is stale
            return
        label = getattr(loaded, "recovery", None)  # read by the loader thread
        if label is None:
            label = _read_recovery(path)  # written after the load began (rare)
        loaded.recovery = None
        if label is None:
            self._remove_recovery(entry)
            return
        if label.shape != self.document.label.shape or not self.ask_restore(path):
            self._remove_recovery(entry)
            return
        self.document.set_label(label)
        self.edit_finished()  # restored edits reach the mask (autosave) like any other edit


def _error_of(future: Future) -> str | None:
    """The failure message a finished write job returned (or raised)."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - cannot happen (_run_job catches), but never hang
        return f"{type(exc).__name__}: {exc}"


def _replace_linked_state_folders(save_dir) -> list[str]:
    """A received project's state folders may be links elsewhere: remove the links (never their
    targets) before anything reads or writes there, and say so."""
    messages = [replace_linked_folder(save_dir, name) for name in (STATE_FOLDER, RECOVERY_FOLDER)]
    return [message for message in messages if message]


def _read_recovery(path: Path) -> np.ndarray | None:
    """The recovery copy at ``path`` if there is a readable one of ours (loader threads)."""
    return recovery.read_copy(path)
