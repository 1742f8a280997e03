"""The session's side of a shared folder: the claim of the image on screen, the heartbeat, who is on
what, and a class list changed by another window.

The session claims an image when it shows it and releases the claim once the image's last save is
written (``core.claims``). On a timer (the session's own timer factory: tests fire a ManualTimer)
a heartbeat job runs on a pool, off the window's thread (a network drive may be slow): it refreshes
this window's claims, reads everyone else's (the file list shows them; A/D skip them) and looks at
classes.txt and project.json (modification time and size), so that a class list changed elsewhere
is noticed within one beat, and the project's models folder, so that a model trained or deleted in
another window is listed here too. Its answer comes back on the session's thread (:class:`Beat`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from segstudio.application.pools import Pool, TimerFactory
from segstudio.core import project_file, project_lock
from segstudio.core.claims import HEARTBEAT_S, Claim, ClaimBook, ClaimTaken
from segstudio.core.classes import load_class_file
from segstudio.core.errors import SegStudioError
from segstudio.core.import_classes import CLASS_FILE_NAME
from segstudio.core.paths import MODELS_FOLDER
from segstudio.core.project import Project

HEARTBEAT_MS = int(HEARTBEAT_S * 1000)
FileState = tuple[tuple[int, int] | None, ...]  # (mtime_ns, size) of each watched file, None: absent
ModelsState = tuple[tuple[str, int], ...]  # (folder name, newest mtime_ns in it) of each model folder
MAX_MODELS_LOOKED = 500  # model folders looked at by a beat: a models folder of thousands costs no more


@dataclass
class Beat:
    """What one heartbeat found: own claims taken over, everyone else's, the class files' state."""

    lost: list[str] = field(default_factory=list)
    others: dict[str, Claim] = field(default_factory=dict)
    class_files: FileState = ()
    models: ModelsState = ()


def class_files_state(save_dir: Path) -> FileState:
    """(mtime_ns, size) of classes.txt and project.json: a change elsewhere changes one of them."""
    states: list[tuple[int, int] | None] = []
    for path in (save_dir / CLASS_FILE_NAME, project_file.settings_path(save_dir)):
        try:
            info = os.stat(path)
            states.append((info.st_mtime_ns, info.st_size))
        except OSError:
            states.append(None)
    return tuple(states)


class Teamwork:
    """Claims and heartbeat of one session (owner's thread, but for the beat job)."""

    def __init__(self, pool: Pool, writer: Pool, timer: TimerFactory, answered: Callable[[Beat], None],
                 say: Callable[[str], None] = lambda line: None) -> None:
        self._pool = pool
        self._writer = writer  # the session's writer: a claim goes once the saves queued before are written
        # one line for the user (a claim file ignored, an image not claimed), delivered on the owner's
        # thread: a claim file may be found unreadable by the heartbeat job, on the pool
        self._say: Callable[[str], None] = lambda line: pool.call_soon(say, line)
        self._answered = answered
        self._timer = timer(HEARTBEAT_MS, self.beat)
        self.book: ClaimBook | None = None
        self.others: dict[str, Claim] = {}  # the live claims of others as last seen, by stem
        self.class_files: FileState = ()
        self.class_names: list[str] | None = None  # classes.txt's names as this window last read them
        self.models: ModelsState | None = None  # the models folder as the last beat found it (None: no beat yet)
        self.own_lock_token = ""  # the project lock this session holds for a change of its own
        self._save_dir: Path | None = None
        self._releasing: set[str] = set()  # stems left, released once their saves are written
        self._carried: str | None = None  # the image shown when the project was opened again

    @property
    def person(self) -> str | None:
        return self.book.person if self.book is not None else None

    def rename(self, person: str) -> None:
        """The claims taken from now on name ``person`` (already cleaned); those held keep their
        name until released: a claim file is never rewritten under another window's eyes."""
        if self.book is not None:
            self.book.person = person

    def attach(self, book: ClaimBook | None, save_dir: Path | None, class_names: list[str] | None = None) -> None:
        """A project opened (``book`` None: read-only, nothing claimed) or closed (both None), with
        the class names it read (None: those in classes.txt now). The first beat compares them with
        classes.txt: a list changed while the project was being read is noticed then."""
        if book is not self.book:
            self._carried = None  # the old book goes with its project, every claim with it
        self.book, self._save_dir = book, save_dir
        self.others = {}
        self.class_files = ()
        self.models = None
        if class_names is None and save_dir is not None:
            class_names = class_names_on_disk(save_dir)
        self.class_names = class_names
        if book is None:
            self._timer.stop()
            return
        book.say = self._say
        self.others = book.others()
        self._timer.start()

    def claim(self, stem: str) -> str | None:
        """Claim image ``stem`` for editing; the read-only reason when that is not possible now."""
        book = self.book
        if book is None or self._save_dir is None:
            return None
        self._releasing.discard(stem)  # shown again before its release ran: kept
        carried, self._carried = self._carried, None
        if carried is not None and carried != stem:
            self.release_after(carried)
        try:
            book.claim(stem)
        except ClaimTaken as exc:
            self.others[stem] = exc.holder
            return f"read-only: {exc}"
        except SegStudioError as exc:  # cannot be written (a read-only folder, no hard links): edited unclaimed
            self._say(f"{stem} is not claimed, other windows may edit it too: {exc}")
            return None
        self.others.pop(stem, None)
        # The claim exists: now look for a project-wide change (which looks for claims after taking
        # its lock), so that the two never both go ahead (core.exclusive).
        path = project_lock.lock_path(self._save_dir)
        owner = project_lock.read_owner(path)
        if owner is not None and owner.token != self.own_lock_token and project_lock.is_alive(owner):
            book.release(stem)
            return f"read-only: {project_lock.ProjectLocked(path, owner)}"
        return None

    def holds(self, stem: str) -> bool:
        return self.book is not None and self.book.holds(stem)

    def release_after(self, stem: str) -> None:
        """Release ``stem`` once the writes queued before now are done (the writer runs in order)."""
        book = self.book
        if book is not None and book.holds(stem):
            self._releasing.add(stem)
            self._writer.submit(self._release, book, stem)

    def carry(self, stem: str) -> None:
        """The project is opened again with ``stem`` on screen: its claim is kept through the reopen
        (the same folder keeps its claims), so that no other window takes the image in between, and
        released once another image is shown. (Another folder's claims all go when it closes.)"""
        self._carried = stem

    def _release(self, book: ClaimBook, stem: str) -> None:
        """Writer thread: release ``stem`` unless it was shown (claimed) again meanwhile."""
        if stem in self._releasing:
            self._releasing.discard(stem)
            book.release(stem)

    def taken(self, stem: str) -> Claim | None:
        """Someone else's claim on ``stem`` as last seen (None: free, or ours)."""
        return self.others.get(stem)

    def beat(self) -> None:
        """The timer fired: refresh the claims and look around, on the pool."""
        book, save_dir = self.book, self._save_dir
        if book is None or save_dir is None:
            return
        future = self._pool.submit(_beat_job, book, save_dir, on_done=lambda done: self._on_beat(book, done))
        if future.cancelled():  # the pools are shut: the window is closing
            return

    def _on_beat(self, book: ClaimBook, future: Future) -> None:
        if book is not self.book:  # another project opened meanwhile
            return
        self._timer.start()
        if future.cancelled() or future.exception() is not None:
            return
        beat: Beat = future.result()
        self.others = beat.others
        self._answered(beat)

    def stop(self) -> None:
        self._timer.stop()


def _beat_job(book: ClaimBook, save_dir: Path) -> Beat:
    """Worker thread: one heartbeat (see the module docstring)."""
    lost = book.heartbeat()
    return Beat(lost, book.others(), class_files_state(save_dir), models_state(save_dir))


def models_state(save_dir: Path) -> ModelsState:
    """Each model folder's name and the newest modification time among it and its files (a run
    finishing rewrites its weights and history inside an existing folder, which the models folder's
    own time does not show). Links are not followed; empty when there is no models folder to read."""
    state: list[tuple[str, int]] = []
    try:
        with os.scandir(save_dir / MODELS_FOLDER) as entries:
            for entry in entries:
                if len(state) >= MAX_MODELS_LOOKED:
                    break
                if entry.is_dir(follow_symlinks=False):
                    state.append((entry.name, _newest(entry)))
    except OSError:
        return ()
    return tuple(sorted(state))


def _newest(folder: os.DirEntry) -> int:
    newest = folder.stat(follow_symlinks=False).st_mtime_ns
    try:
        with os.scandir(folder.path) as files:
            for item in files:
                newest = max(newest, item.stat(follow_symlinks=False).st_mtime_ns)
    except OSError:
        pass
    return newest


def models_changed(beat: Beat, team: Teamwork) -> bool:
    """True when the models folder changed since the previous beat (not at the first beat: the list
    was read when the project opened)."""
    before, team.models = team.models, beat.models
    return before is not None and beat.models != before


def classes_changed(beat: Beat, team: Teamwork, project: Project) -> bool:
    """True when the class list on disk is no longer the one this window last read there (changed
    by another window): only looked at when classes.txt or project.json changed since the last beat."""
    if not beat.class_files or beat.class_files == team.class_files:
        return False
    team.class_files = beat.class_files
    names = class_names_on_disk(project.save_dir)
    changed = names is not None and names != team.class_names and names != project.classes.names
    team.class_names = names
    return changed


def stale_class_list(project: Project, target: list[str] | None = None) -> bool:
    """True when classes.txt holds another list than this window's (another window changed it, and
    this one has not read it again yet), nor the ``target`` a class rewrite makes. Not while the
    window is asked to choose between the recorded list and classes.txt (``Project.class_conflict``):
    they differ then by design."""
    names = class_names_on_disk(project.save_dir)
    return (names is not None and names not in (project.classes.names, target)
            and project.class_conflict is None)


def class_names_on_disk(save_dir: Path) -> list[str] | None:
    """The class names in the project's classes.txt now (None: none there, or unreadable)."""
    path = save_dir / CLASS_FILE_NAME
    if not path.is_file():
        return None
    try:
        return load_class_file(path)[0].names
    except (SegStudioError, OSError):
        return None
