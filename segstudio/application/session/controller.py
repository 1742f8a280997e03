"""The project session: the open project, the image being edited, and every file it reads or writes.

The single owner of the flow a window runs most: open (lock, read-only reasons), navigate, edit,
save queue, recovery copies, mask repair. Plain Python: no toolkit, no torch. It talks through
events (psygnal signals) and runs its slow work on pools it is given (``application.pools``), whose
answers come back on the thread that owns the session; a window gives it pools answering on its GUI
thread, a test gives it :class:`~segstudio.application.pools.QueuedPools` and drives it step by step.

Nothing here ever waits: a load is requested and announced (``loading_started``) then delivered
(``image_loaded`` or ``load_failed``); writes run in order on one writer pool from a snapshot of the
label map; "when every queued write has answered" is a callback (:meth:`ProjectSession.flush`), so
closing, exporting, training and class rewrites are steps that follow the writes, never a loop that
waits for them. A failed write keeps the snapshot in memory (the image stays dirty, also after
moving on) and is reported through ``save_failed``. Questions for the user (restore a recovery copy?
save before leaving?) are callables the window sets (``ask_restore``, ``ask_unsaved``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from psygnal import Signal

from segstudio.application.pools import Pools, TimerFactory
from segstudio.application.session import navigation, repair_step, save_queue, team_session, teamwork
from segstudio.application.session.load_queue import LoadQueue, LoadResult
from segstudio.application.session.loading import Decorate, LoadedImage, LoadJob, load_job
from segstudio.application.session.open_project import OpenProject, open_project
from segstudio.application.session.save_queue import HELD_STATE, SaveBook, SaveJob
from segstudio.application.session.team_methods import TeamMethods
from segstudio.application.session.teamwork import Teamwork
from segstudio.application.session.undo_keeper import UndoKeeper
from segstudio.core.budgets import loaded_image_bytes
from segstudio.core.document import Document
from segstudio.core.errors import SegStudioError
from segstudio.core.geometry import Rect
from segstudio.core.mask_repair import MaskDiagnosis
from segstudio.core.project import ImageEntry, Project

SAVE_DELAY_MS = 1000  # a finished stroke reaches the disk within ~1-2 s
Then = Callable[[], None]


class ProjectSession(TeamMethods):
    """Current project, current image and its Document; all file traffic of one window (the team
    methods -- who else edits what, project-wide changes -- come from :class:`TeamMethods`)."""

    project_opened = Signal()
    loading_started = Signal(int)  # index of the image now being loaded (no document meanwhile)
    image_loaded = Signal(object)  # LoadedImage
    dirty_changed = Signal(bool)
    save_state = Signal(str)  # "saved", "saving…", "unsaved changes", "save failed"...
    save_failed = Signal(str)
    entry_changed = Signal(int)  # labelled/verified state of this entry may have changed
    load_failed = Signal(str)
    mask_restored = Signal()  # a recovery copy replaced the mask on screen (counts are stale)
    ahead_loaded = Signal()  # a neighbour is loaded ahead: images_ahead() has more
    mask_saved = Signal(int, object)  # an entry's index (this folder's list) and the mask written for it
    claims_changed = Signal()  # who is on what changed (``claimed_by_others``): the file list shows it
    models_changed = Signal()  # a model was trained, changed or deleted in the models folder elsewhere
    save_conflict = Signal(str)  # the mask changed on disk under this window: the strokes went beside it
    team_said = Signal(str)  # one line about working as a team (a claim file ignored, an image not claimed)

    def __init__(self, pools: Pools, timer: TimerFactory, decorate: Decorate | None = None) -> None:
        self._open: OpenProject | None = None
        self.index = -1
        self.current: LoadedImage | None = None
        self.document: Document | None = None
        self.verified = False
        self.autosave = True
        self.ask_restore: Callable[[Path], bool] = lambda path: True
        self.ask_unsaved: Callable[[], str] = lambda: "save"  # "save" | "discard" | "cancel"
        self.overlay_lut: np.ndarray | None = None  # mask colours, so loaders colour the overlay too
        self._decorate = decorate
        self._queue = LoadQueue(pools)
        self._queue.prefetched.connect(lambda _index: self.ahead_loaded.emit())
        self._queue.loaded.connect(self._on_loaded)
        self._writer = pools.pool("save")
        self._rewriter = pools.pool("class-rewrite")
        self._book = SaveBook()
        self._undo = UndoKeeper()  # undo histories of the images left, given back on return
        self._previous: LoadedImage | None = None  # shown again if the requested image fails
        self.writes_held = False  # a class rewrite is running: no saves, no image switches
        self._held_result: LoadResult | None = None  # an image that arrived during a class rewrite
        self._when_written: list[Then] = []  # callbacks waiting for every queued write to answer
        self._shown_dirty = False  # the dirty state last announced
        self._timer = timer(SAVE_DELAY_MS, self._delayed_write)
        self.person: str | None = None  # who this window's claims name (None: the OS user)
        self.taken: str | None = None  # why the image on screen is read-only (another editor has it)
        self.ask_reload_classes: Callable[[], bool] = lambda: True  # asked when edits are unsaved
        self.reopen: Callable[[], None] = self.reopen_here  # the window reads the project again its way
        self._team = Teamwork(pools.pool("claims"), self._writer, timer,
                              lambda beat: team_session.on_beat(self, beat), self.team_said.emit)

    # --- project ---------------------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self._open.project if self._open is not None else None

    @property
    def read_only(self) -> str | None:
        """Why nothing is written (a project-wide change runs in another window), or None; an image
        another window edits is read-only on its own (:attr:`taken`)."""
        return self._open.read_only if self._open is not None else None

    @property
    def open_warnings(self) -> list[str]:
        """Said once when the project opens (links replaced, read-only...)."""
        return self._open.warnings if self._open is not None else []

    def recovery_waiting(self) -> list[int]:
        """Indices of the images that have a recovery copy (unsaved work from a previous run)."""
        if self._open is None or self.project is None:
            return []
        entries = self.project.entries
        waiting = set(self._open.recovery.waiting([entry.stem for entry in entries]))
        waiting -= set(self._team.others)  # another window edits it: the copy is its editor's work
        return [index for index, entry in enumerate(entries) if entry.stem in waiting]

    def open_project(self, image_dir: str | os.PathLike, class_file: str | os.PathLike | None = None,
                     save_dir: str | os.PathLike | None = None) -> Project:
        """Open a folder (raises SegStudioError); the first image is loaded by the caller."""
        if not self.leave_current():
            raise SegStudioError("the current image has unsaved changes")
        if self.current is not None:  # released once another image is shown (see Teamwork.carry)
            self._team.carry(self.current.entry.stem)
        opened = open_project(image_dir, class_file, save_dir, held=self._open, person=self.person)
        previous, self._open = self._open, opened
        read = opened.project
        self._team.attach(opened.claims, None if opened.read_only else read.save_dir,
                          None if read.class_conflict else list(read.classes.names))
        if previous is not None:
            self._close_after_writes(previous)
        self._queue.cancel()
        self.index = -1
        self.current, self.taken = None, None
        self._previous = None
        self._set_document(None)
        self._book.forget_snapshots()
        self._undo.clear()
        self.project_opened.emit()
        return opened.project

    def _close_after_writes(self, opened: OpenProject) -> None:
        """Close a project left behind once the saves queued for it are written (the writer runs
        jobs in order), so they land in it while its lock still keeps other windows out."""
        if self._book.outstanding == 0:
            opened.close()
            return
        self._writer.submit(opened.close)

    def release_lock(self) -> None:
        """Let another window write this project; this window writes nothing more into it."""
        if self._open is not None:
            self._open.close()

    def set_save_dir(self, save_dir: str | os.PathLike) -> Project:
        project = self.project
        if project is None:
            raise SegStudioError("open a folder first")
        index = self.index
        self.open_project(project.image_dir, None, save_dir)
        if self.project is not None and self.project.entries:
            self.load_index(max(0, index))
        assert self.project is not None
        return self.project

    @property
    def entry(self) -> ImageEntry | None:
        return self.current.entry if self.current is not None else None

    def has_unsaved_snapshots(self) -> bool:
        """True when some image's edits are only in memory (a save failed or is still running)."""
        return bool(self._book.pending)

    @property
    def dirty(self) -> bool:
        return self.document is not None and self.document.dirty

    @property
    def mask_blocked(self) -> bool:
        """True while the open image's mask file could not be used: nothing is written for this
        image (its file stays as it is) until the user chooses a repair (:meth:`repair_mask`)."""
        return self.current is not None and self.current.mask_problem is not None

    @property
    def idle(self) -> bool:
        """True when no write waits: none delayed, none queued or unanswered, no hold."""
        return not self._timer.is_active() and self._book.outstanding == 0 and not self.writes_held

    # --- navigation ------------------------------------------------------------------------------
    def load_index(self, index: int) -> bool:
        """Ask for image ``index``; False when it cannot be shown (or the user cancelled).

        The current image is saved (or the user asked) and released at once; the new one is shown
        when its loader has it (at once when it was prefetched), announced by ``loading_started``
        then ``image_loaded`` (or ``load_failed``). Only the latest request is ever shown.
        """
        project = self.project
        if project is None or not navigation.is_valid(index, len(project.entries)) or self.writes_held:
            return False
        if index == self.index and (self.current is not None or self.loading):
            return True
        if not self.leave_current():
            return False
        if self.current is not None:
            self._previous = self.current
            self._team.release_after(self.current.entry.stem)
            if self.document is not None:
                self._undo.keep(self.current.entry.image_path, self.document)
        self.current, self.index, self.taken = None, index, None
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
    def target_entry(self) -> ImageEntry | None:
        """The entry shown or being loaded (``entry`` is only set once the image is shown)."""
        if self.project is None or not navigation.is_valid(self.index, len(self.project.entries)):
            return None
        return self.project.entries[self.index]

    def masks_rewritten(self, lut: np.ndarray | None = None) -> None:
        """Masks on disk changed behind the session's back (class remap): forget every loaded copy.

        ``lut`` also remaps the snapshots of edits not saved yet, so they keep their meaning.
        """
        self._book.masks_rewritten(lut)
        self._queue.keep_only(set())
        if self.loading:
            self._queue.request(self.index, self._job(self.index))

    def _neighbours(self, index: int) -> list[int]:
        """The neighbours loaded ahead, as many as the prefetch budget holds at the size of the image
        shown (the images of a folder are usually alike; core.budgets)."""
        assert self.project is not None
        size = loaded_image_bytes(*self.current.size) if self.current is not None else 0
        return navigation.neighbours(index, len(self.project.entries), size)

    def _job(self, index: int) -> LoadJob:
        """A loader job for ``index`` with the state it must match, captured now (owner's thread)."""
        assert self.project is not None and self._open is not None
        entry = self.project.entries[index]
        return load_job(self.project, index, self._book.generation_of(entry.image_path), self.overlay_lut,
                        self._book.pending.get(entry.image_path), self._open.recovery, self._decorate)

    def _is_fresh(self, loaded: LoadedImage, index: int) -> bool:
        """True when ``loaded`` still matches the files and unsaved edits of image ``index``."""
        assert self.project is not None
        entry = self.project.entries[index]
        return (
            loaded.entry == entry
            and loaded.generation == self._book.generation_of(entry.image_path)
            and loaded.pending is self._book.pending.get(entry.image_path)
        )

    def _on_loaded(self, result: LoadResult) -> None:
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
        assert self.project is not None
        entry = loaded.entry
        if loaded.mask_problem is not None and teamwork.stale_class_list(self.project):
            self.reopen()  # its values are classes another window added: read the class list first
            return
        taken = None if self.read_only else self._team.claim(entry.stem)
        if taken is None and team_session.stale_on_disk(self, loaded):  # its last editor saved meanwhile
            loaded.generation = (-1, -1)  # (its mask is read again)
            self._queue.request(loaded.index, self._job(loaded.index), base=loaded)
            return
        self.current, self.index, self.taken = loaded, loaded.index, taken
        self._previous = None
        self.verified = bool(self.project.is_verified(entry))
        team_session.remember_digest(self, loaded)
        self._set_document(loaded.document)
        if loaded.document is not None:
            self._undo.give_back(entry.image_path, loaded.document)  # Ctrl+Z works across switches
        self.image_loaded.emit(loaded)
        if offer_recovery:
            self._offer_recovery(loaded)
        self._emit_state()
        self._schedule_prefetch(loaded.index)

    def _set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_edit, missing_ok=True)
            self.document.committed.disconnect(self._on_commit, missing_ok=True)
        self.document = document
        self._shown_dirty = document is not None and document.dirty
        if document is not None:
            document.changed.connect(self._on_edit)
            document.committed.connect(self._on_commit)
            reason = self.read_only or self.taken
            if reason:  # nothing could save an edit: none is accepted (see Document.lock)
                document.lock(reason)

    def _schedule_prefetch(self, index: int) -> None:
        """Keep exactly one image ahead and one behind loaded (older ones are freed)."""
        self._queue.prefetch({i: self._job(i) for i in self._neighbours(index)})

    def images_ahead(self) -> list[np.ndarray]:
        """The pixels of the neighbours already loaded ahead, the next image first."""
        if self.index < 0:
            return []
        ready = (self._queue.peek_ready(i) for i in self._neighbours(self.index))
        return [loaded.rgb for loaded in ready if loaded is not None]

    def discard_prefetched(self) -> None:
        """Forget the neighbours loaded ahead (a project setting that shapes new documents changed)."""
        self._queue.keep_only(set())
        if self.index >= 0:
            self._schedule_prefetch(self.index)

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
            assert self.document is not None
            opened, entry = self._shown()
            self._book.discard(entry.image_path)
            # queued, not done now: a recovery copy of these edits may still wait in the queue
            self._submit(SaveJob(save_queue.DISCARD, opened, entry, self.document.label, self.index))
        return True

    # --- saving ------------------------------------------------------------------------------------
    def save_async(self, verified: bool | None = None) -> None:
        """Write the current mask and XML on the writer pool (snapshot taken now)."""
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
        document = self.document
        opened, entry = self._shown()
        self._submit(SaveJob(save_queue.SAVE, opened, entry, document.label.copy(), self.index,
                             verified=self.verified, document=document, revision=document.revision))

    def toggle_verified(self) -> None:
        if self.document is not None:
            self.save_async(verified=not self.verified)

    def repair_mask(self, repair: str) -> MaskDiagnosis | None:
        """Apply the repair the user chose to the open image's unusable mask (raises SegStudioError);
        the next problem, or None once the mask fits (:func:`repair_step.repair_open_mask`)."""
        return repair_step.repair_open_mask(self, repair)

    def flush(self, then: Then | None = None) -> None:
        """Write the delayed save now; ``then()`` once every queued write has answered (at once
        when none is queued). Closing, exporting and training follow the writes this way."""
        if self._timer.is_active():
            self._delayed_write()
        if then is None:
            return
        if self._book.outstanding == 0:
            then()
        else:
            self._when_written.append(then)

    def shutdown(self, then: Then | None = None) -> None:
        """The window is closing (confirmed): once the writes are done, let the project go, then
        ``then()``. The pools belong to the window, which shuts them down after this."""

        def let_go() -> None:
            self._queue.cancel()
            self._team.stop()
            self.release_lock()
            if then is not None:
                then()

        self.flush(let_go)

    def hold_writes(self, then: Then) -> None:
        """Before a class rewrite: finish the queued writes, then write nothing and stay on this
        image until :meth:`release_writes` (a delayed save is postponed, not lost), and ``then()``."""
        self._timer.stop()

        def hold() -> None:
            self.writes_held = True
            then()

        self.flush(hold)

    def release_writes(self) -> None:
        """The rewrite is over: writes and image switches again; an image that arrived meanwhile is
        checked now (its mask may predate the rewrite)."""
        self.writes_held = False
        held, self._held_result = self._held_result, None
        if held is not None:
            self._on_loaded(held)

    def _on_edit(self, rect: Rect) -> None:
        """A dab: the save state is said again only when the image turns dirty (not per dab)."""
        if self.dirty != self._shown_dirty:
            self._emit_state()

    def _on_commit(self, kind: str) -> None:
        self.edit_finished()

    def edit_finished(self) -> None:
        """A step ended (the document's ``committed``): write the mask (autosave) or a recovery
        copy within ~2 s."""
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
        assert self.project is not None and self.document is not None
        opened, entry = self._shown()
        self._submit(SaveJob(save_queue.RECOVERY, opened, entry, self.document.label.copy(),
                             self.index, colours=self.project.classes.colour_table()))

    def _shown(self) -> tuple[OpenProject, ImageEntry]:
        """The project and the entry of the image on screen, which a write of its document goes to
        (a document is only ever set together with the image it belongs to)."""
        assert self._open is not None and self.current is not None
        return self._open, self.current.entry

    def _submit(self, job: SaveJob) -> None:
        """Queue a write; its answer comes back on the owner's thread once it is done, counted in
        the book, so the save state never depends on the timing of the writer."""
        if (self.read_only or self.taken) and not job.conflict_only:  # nothing is written (nothing was edited)
            self._emit_state()
            return
        future = self._writer.submit(save_queue.run_job, job, on_done=lambda done: self._on_write_done(job, done))
        if future.cancelled():  # the window is closing: the pools are shut
            return
        self._book.submitted(job)
        self.save_state.emit("saving…")

    def _on_write_done(self, job: SaveJob, future: Future) -> None:
        error = _error_of(future)
        self._book.finished(job, error)
        conflict = job.report.get("conflict")
        if conflict is not None:
            team_session.conflicted(self, job, conflict)
        if job.kind == save_queue.SAVE and self._shows_folder_of(job.target):
            document = job.document
            if (error is None and document is not None and document is self.document
                    and document.revision == job.revision):
                document.mark_saved()
            self.entry_changed.emit(job.index)
            if error is None and conflict is None:  # (a conflict wrote the strokes beside the mask)
                self.mask_saved.emit(job.index, job.label)
        if error is not None:
            self.save_failed.emit(error)
        self._emit_state(error)
        if self._book.outstanding == 0:
            waiting, self._when_written = self._when_written, []
            for then in waiting:
                then()

    def _shows_folder_of(self, opened: OpenProject) -> bool:
        """True when the project on screen is ``opened`` or the same folders opened again (a class
        file or save folder chosen anew): its file list is the one a job's index refers to."""
        project, other = self.project, opened.project
        return project is not None and (project.image_dir, project.save_dir) == (other.image_dir, other.save_dir)

    def _emit_state(self, error: str | None = None) -> None:
        self._shown_dirty = self.dirty
        self.dirty_changed.emit(self.dirty)
        self.save_state.emit(save_queue.state_text(self.read_only or self.taken, error, self._book.outstanding > 0,
                                                   self.mask_blocked, self.dirty, len(self._book.pending)))

    # --- recovery copies -----------------------------------------------------------------------------
    def _offer_recovery(self, loaded: LoadedImage) -> None:
        """Offer the recovery copy of the image just shown (application.session.recovery_store decides)."""
        assert self._open is not None and self.document is not None
        entry, store = loaded.entry, self._open.recovery
        if self.taken:  # the copy is its editor's work, not this window's
            return
        found, loaded.recovery = loaded.recovery, None  # read by the loader thread
        label = store.to_offer(entry.stem, entry.mask_path, found, self.document.label.shape)
        if label is None:
            return
        if not self.ask_restore(store.path(entry.stem)):
            store.remove(entry.stem)
            return
        self.document.set_label(label)  # committed: restored edits reach the mask like any other edit
        self.mask_restored.emit()


def _error_of(future: Future) -> str | None:
    """The failure message a finished write job returned (or raised, or that it was cancelled)."""
    if future.cancelled():
        return "the write was cancelled: the window is closing"
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - cannot happen (run_job catches), but never hang
        return f"{type(exc).__name__}: {exc}"
