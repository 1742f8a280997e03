"""The team side of the project session (a part of :class:`ProjectSession`, kept in its own file).

Several windows edit one shared folder: each claims the image it shows (``teamwork``), a heartbeat
tells who is on what, a project-wide change takes the project lock only while nobody else edits
(``core.exclusive``), and a save that finds the mask changed under it writes a conflict file
instead (``core.mask_guard``). The methods here react to all that on the session's thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from segstudio.application import class_rewrite
from segstudio.application.session import save_queue, teamwork
from segstudio.application.session.loading import LoadedImage
from segstudio.application.session.save_queue import SaveJob
from segstudio.application.session.session_parts import SessionParts
from segstudio.application.session.teamwork import Beat
from segstudio.core import exclusive, project_lock, served
from segstudio.core.classes import ClassList
from segstudio.core.errors import SegStudioError
from segstudio.core.mask_guard import file_digest


def claimed_by_others(session: SessionParts) -> dict[int, str]:
    """Who edits which image in another window, as last seen: {entry index: "alice since 10:42"}."""
    project, others = session.project, session._team.others
    if project is None or not others:
        return {}
    return {i: others[e.stem].describe() for i, e in enumerate(project.entries) if e.stem in others}


def others_editing(session: SessionParts) -> str | None:
    """"alice (img3) is editing images of this project" while others hold claims, as last seen."""
    others = session._team.others
    return exclusive.busy_reason(others) if others else None


def take_project(session: SessionParts, what: str, target: list[str] | None = None) -> project_lock.ProjectLock:
    """The project lock for a change of the whole project (``what``: "change the classes");
    SegStudioError naming who is in the way. Release it with :func:`let_project_go`. ``target``: the
    class list a rewrite makes (classes.txt may hold it already: the window chose it at opening)."""
    if session._open is None or session.read_only:
        raise SegStudioError(f"cannot {what}: the project is {session.read_only or 'not open'}")
    project = session._open.project
    lock = exclusive.take(project.save_dir, session._open.claims, what)
    if teamwork.stale_class_list(project, target):
        lock.release()  # changed by another window since this one read it: the next beat reloads it
        raise SegStudioError(f"cannot {what}: the class list was changed in another window; "
                             "try again once this window has read it again")
    session._team.own_lock_token = lock.owner.token
    return lock


def let_project_go(session: SessionParts, lock: project_lock.ProjectLock) -> None:
    """The change is over: the project lock goes."""
    if session.project is not None:  # this window's own change is no change "elsewhere": read while
        # the lock is still held, since a change another window makes once it is released must be seen
        session._team.class_files = teamwork.class_files_state(session.project.save_dir)
        session._team.class_names = teamwork.class_names_on_disk(session.project.save_dir)
    session._team.own_lock_token = ""
    lock.release()


@contextlib.contextmanager
def project_wide(session: SessionParts, what: str) -> Iterator[None]:
    """Hold the project lock while a quick change of the whole project runs (adding a class)."""
    lock = take_project(session, what)
    try:
        yield
    finally:
        let_project_go(session, lock)


def reopen_here(session: SessionParts) -> None:
    """Read the project again (its class list changed elsewhere) and show the same image."""
    project, index = session.project, session.index
    if project is None:
        return
    session.open_project(project.image_dir, project.class_file, project.save_dir)
    if session.project is not None and session.project.entries:
        session.load_index(min(max(index, 0), len(session.project.entries) - 1))


def on_beat(session: SessionParts, beat: Beat) -> None:
    """A heartbeat answered: an image taken over, an image freed, a class list or the models changed
    elsewhere."""
    current = session.current
    if current is not None and not session.taken and current.entry.stem in beat.lost:
        taken_over(session, current.entry.stem)
    elif current is not None and session.taken and not session.read_only and current.entry.stem not in beat.others:
        show_again(session)  # free again: claimed, and its mask read afresh
    project = session.project
    if project is not None and teamwork.classes_changed(beat, session._team, project):
        if not session.dirty or session.ask_reload_classes():
            session.reopen()
    if teamwork.models_changed(beat, session._team):
        session.models_changed.emit()
    session.claims_changed.emit()


def taken_over(session: SessionParts, stem: str) -> None:
    """This window's claim was taken over (it was away longer than the timeout): nothing more
    is written over the mask; strokes not saved yet go to a conflict file."""
    holder = session._team.others.get(stem)
    session.taken = f"read-only: taken over by {holder.describe() if holder else 'another window'}"
    document = session.document
    if document is not None and document.dirty and not session.mask_blocked:
        opened, entry = session._shown()
        session._submit(SaveJob(save_queue.SAVE, opened, entry, document.label.copy(), session.index,
                                verified=session.verified, document=document, revision=document.revision,
                                conflict_only=True))
    if document is not None:
        document.lock(session.taken or "read-only")
    session._emit_state()


def show_again(session: SessionParts) -> None:
    """Load the image on screen again (it was freed by its editor: claim it, read its mask)."""
    index = session.index
    session.current, session.taken = None, None
    session._set_document(None)
    session._queue.keep_only(set())
    session._queue.request(index, session._job(index))
    session.loading_started.emit(index)


def masks_changed_here(session: SessionParts) -> None:
    """This window rewrote masks itself (a class rewrite, under the project lock): the digests it
    remembered are out of date; the image on screen is the one now on disk (its claim is held)."""
    opened, current = session._open, session.current
    if opened is None:
        return
    opened.disk_digests.clear()
    if current is not None:
        with contextlib.suppress(OSError):
            opened.disk_digests[current.entry.stem] = file_digest(current.entry.mask_path)


def stale_on_disk(session: SessionParts, loaded: LoadedImage) -> bool:
    """True when the mask on disk is no longer the one ``loaded`` read: it was read before this
    window claimed the image, while its previous editor was still saving it."""
    entry = loaded.entry
    if loaded.disk_digest is None or entry.image_path in session._book.pending:
        return False
    try:
        return file_digest(entry.mask_path) != loaded.disk_digest
    except OSError:
        return False


def remember_digest(session: SessionParts, loaded: LoadedImage) -> None:
    """The mask this window now edits is the one on disk it loaded (unless a save of its own
    is on its way, which records its own digest when written)."""
    if session._open is not None and loaded.entry.image_path not in session._book.pending and loaded.disk_digest:
        session._open.disk_digests[loaded.entry.stem] = loaded.disk_digest


def conflicted(session: SessionParts, job: SaveJob, path: Path) -> None:
    """A save found the mask changed under it: the strokes are in ``path``, the image read-only."""
    why = f"{job.name} was changed on disk by someone else"
    if job.conflict_only and session.taken:
        why = f"{job.name} was {session.taken.removeprefix('read-only: ')}"
    message = f"{why}; your strokes are in {path}"
    if job.document is not None:
        job.document.mark_saved()
        if job.document is session.document:
            session.taken = f"read-only: {message}"
            job.document.lock(session.taken or "read-only")
    session.save_conflict.emit(message)


def rewrite_classes(session: SessionParts, classes: ClassList, lut: np.ndarray, done: Callable[[str | None], None],
                    progress: Callable[[int, int], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> None:
    """Make ``classes`` the project's class list, rewriting every mask, XML, classes.txt and
    project.json through ``lut`` (old index -> new), then ``done(outcome)``
    (application.class_rewrite.outcome: None when done).

    The queued saves are written first, with the class list they were made with, and nothing
    is saved meanwhile. On success the masks loaded ahead are dropped and the open image with
    its undo history is renumbered in memory (its dirty state unchanged: the file was remapped
    the same way); otherwise the old class list is back and no file changed.
    ``progress(done, total)`` is called on the owner's thread."""
    project, document = session.project, session.document
    assert project is not None
    pool = session._rewriter
    old = project.classes

    def report(count: int, total: int) -> None:  # on the worker
        if progress is not None:
            pool.call_soon(progress, count, total)

    held: list[project_lock.ProjectLock] = []

    def finished(future: Future) -> None:
        message = class_rewrite.outcome(future)
        for lock in held:
            let_project_go(session, lock)
        masks_changed_here(session)
        if message is not None:
            project.classes = old
        elif not class_rewrite.is_identity(lut):
            session.masks_rewritten(lut)
            if document is not None and session.document is document:
                document.remap_classes(lut)
        session.release_writes()
        done(message)

    def start() -> None:
        try:
            held.append(take_project(session, "change the classes", list(classes.names)))
        except SegStudioError as exc:  # others edit images, or another change runs: refused
            session.release_writes()
            done(str(exc))
            return
        project.classes = classes
        future = pool.submit(class_rewrite.rewrite_project, project, lut, report, should_stop, on_done=finished)
        if future.cancelled():  # the pools are shut: the window is closing
            finished(future)

    session.hold_writes(start)


def label_next(session: SessionParts, order: Sequence[int], top_n: int = served.TOP_N) -> int | None:
    """"Label next" with the uncertainty sort (``order``: most uncertain first): show the least
    recently served of the ``top_n`` most uncertain images that no other window edits, and record
    it as served (core.served); its index, or None when there is none."""
    project = session.project
    if project is None:
        return None
    skip = session.taken_indices() | {session.index}
    stems = [entry.stem for entry in project.entries]
    index = served.pick(order, stems, served.read_served(project.save_dir), skip, top_n)
    if index is None or not session.load_index(index):
        return None
    if not session.read_only:
        with contextlib.suppress(SegStudioError):  # only a hint for the other windows
            served.mark_served(project.save_dir, stems[index])
    return index
