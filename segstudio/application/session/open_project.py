"""A project as one window holds it open: the Project, its lock, and whether writes are allowed.

Opening takes the project's lock first (core.project_lock), so a project that another window has
open is opened without writing a byte (read-only, and the reason is kept to show). The app's own
state folders are replaced first when a received project has them as links.

A queued save captures the :class:`OpenProject` it was made for (see save_queue): once that handle
is closed the save is refused instead of landing in whatever project is open by then.
"""

from __future__ import annotations

import os
from pathlib import Path

from segstudio.application.session.recovery_store import RecoveryStore
from segstudio.core import project_lock, recovery
from segstudio.core.errors import SegStudioError
from segstudio.core.paths import STATE_FOLDER, replace_linked_folder
from segstudio.core.project import Project


class OpenProject:
    """One opened project: ``project``, its ``lock`` (None: not locked), ``read_only`` (why nothing is
    written, or None), the ``warnings`` said once on opening, and its recovery copies."""

    def __init__(self, project: Project, lock: project_lock.ProjectLock | None, read_only: str | None,
                 warnings: list[str]) -> None:
        self.project = project
        self.lock = lock
        self.read_only = read_only
        self.warnings = warnings
        self.recovery = RecoveryStore(project.save_dir, read_only=bool(read_only))
        self.closed = False

    @property
    def name(self) -> str:
        return str(self.project.save_dir)

    def hand_over_lock(self) -> None:
        """The next handle of the same folder keeps this lock: closing this one must not release it."""
        self.lock = None

    def close(self) -> None:
        """No more writes for this project; its lock goes (idempotent). Called once its queued saves
        are done, so they still land here while no other window can take the project."""
        self.closed = True
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def open_project(image_dir: str | os.PathLike, class_file: str | os.PathLike | None = None,
                 save_dir: str | os.PathLike | None = None, held: OpenProject | None = None) -> OpenProject:
    """Open a folder (raises SegStudioError); ``held`` is the project this window has open now,
    whose lock is reused when the save folder is the same."""
    folder = Path(save_dir if save_dir is not None else image_dir).resolve()
    warnings = replace_linked_state_folders(folder)
    lock, read_only = _lock_for(folder, held, warnings)
    try:
        project = Project(image_dir, save_dir=save_dir, class_file=class_file, read_only=bool(read_only))
    except BaseException:
        if lock is not None and (held is None or lock is not held.lock):
            lock.release()  # the project open before keeps its own lock
        raise
    if held is not None and lock is not None and lock is held.lock:
        held.hand_over_lock()
    return OpenProject(project, lock, read_only, warnings)


def _lock_for(save_dir: Path, held: OpenProject | None,
              warnings: list[str]) -> tuple[project_lock.ProjectLock | None, str | None]:
    """(lock, read-only reason) for ``save_dir``: the lock this window already holds, a new one, or
    none with the reason when another window holds it."""
    if held is not None and held.lock is not None and held.lock.save_dir == save_dir:
        return held.lock, held.read_only
    try:
        return project_lock.acquire(save_dir), None
    except project_lock.ProjectLocked as exc:
        reason = f"read-only: {exc}"
        warnings.append(reason)
        return None, reason
    except SegStudioError as exc:  # a read-only folder: saves will say why they fail
        warnings.append(f"the project is not locked against other windows: {exc}")
        return None, None


def replace_linked_state_folders(save_dir: str | os.PathLike) -> list[str]:
    """A received project's state folders may be links elsewhere: remove the links (never their
    targets) before anything reads or writes there, and say so."""
    messages = [replace_linked_folder(save_dir, name) for name in (STATE_FOLDER, recovery.RECOVERY_FOLDER)]
    return [message for message in messages if message]
