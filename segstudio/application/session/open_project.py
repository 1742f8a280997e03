"""A project as one window holds it open: the Project, its claims, and whether writes are allowed.

Several windows (of one person or of a team, on one machine or on several sharing a drive) may have
a project open at once: each image is edited by one of them at a time, by claiming it
(``core.claims``, through the :class:`~segstudio.core.claims.ClaimBook` kept here). Only while a
project-wide change runs elsewhere (it holds the project lock, ``core.exclusive``: a class rewrite,
an import) is a project opened without writing a byte (read-only, and the reason is kept to show),
since that change may be rewriting every mask and the class list. The app's own state folders are
replaced first when a received project has them as links.

A queued save captures the :class:`OpenProject` it was made for (see save_queue): once that handle
is closed the save is refused instead of landing in whatever project is open by then.
"""

from __future__ import annotations

import os
from pathlib import Path

from segstudio.application.session.recovery_store import RecoveryStore
from segstudio.core import project_lock, recovery
from segstudio.core.claims import ClaimBook, default_person
from segstudio.core.paths import STATE_FOLDER, replace_linked_folder
from segstudio.core.project import Project


class OpenProject:
    """One opened project: ``project``, its ``lock`` (held only during a project-wide change),
    ``read_only`` (why nothing is written, or None), the ``warnings`` said once on opening, its
    recovery copies and its ``claims`` (None when read-only)."""

    def __init__(self, project: Project, lock: project_lock.ProjectLock | None, read_only: str | None,
                 warnings: list[str], claims: ClaimBook | None = None) -> None:
        self.project = project
        self.lock = lock
        self.read_only = read_only
        self.warnings = warnings
        self.recovery = RecoveryStore(project.save_dir, read_only=bool(read_only))
        self.claims = claims
        self.person = claims.person if claims is not None else default_person()
        self.disk_digests: dict[str, str] = {}  # mask digest last loaded or written, by stem (core.mask_guard)
        self.closed = False

    @property
    def name(self) -> str:
        return str(self.project.save_dir)

    def hand_over(self) -> None:
        """The next handle of the same folder keeps this one's lock and claims: closing this one
        must not release them (the image on screen stays claimed across a reopen)."""
        self.lock = None
        self.claims = None

    def close(self) -> None:
        """No more writes for this project; its lock and claims go (idempotent). Called once its
        queued saves are done, so they still land here while no other window can take the images."""
        self.closed = True
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if self.claims is not None:
            self.claims.release_all()
            self.claims = None


def open_project(image_dir: str | os.PathLike, class_file: str | os.PathLike | None = None,
                 save_dir: str | os.PathLike | None = None, held: OpenProject | None = None,
                 person: str | None = None) -> OpenProject:
    """Open a folder (raises SegStudioError); ``held`` is the project this window has open now,
    whose claims are kept when the save folder is the same; ``person`` names this window's claims
    (None: ``core.claims.default_person``)."""
    folder = Path(save_dir if save_dir is not None else image_dir).resolve()
    warnings = replace_linked_state_folders(folder)
    read_only = changing_elsewhere(folder)
    if read_only:
        warnings.append(read_only)
    project = Project(image_dir, save_dir=save_dir, class_file=class_file, read_only=bool(read_only))
    if read_only:
        return OpenProject(project, None, read_only, warnings)
    if held is not None and held.claims is not None and held.claims.save_dir == folder:
        opened = OpenProject(project, None, None, warnings, held.claims)  # (digests anew: read again)
        held.hand_over()
        return opened
    return OpenProject(project, None, None, warnings, ClaimBook(folder, person))


def changing_elsewhere(save_dir: Path) -> str | None:
    """The read-only reason while a project-wide change runs in another window or command (it holds
    the project lock), else None."""
    owner = project_lock.held_elsewhere(save_dir)
    if owner is None:
        return None
    return f"read-only: {project_lock.ProjectLocked(project_lock.lock_path(save_dir), owner)}"


def replace_linked_state_folders(save_dir: str | os.PathLike) -> list[str]:
    """A received project's state folders may be links elsewhere: remove the links (never their
    targets) before anything reads or writes there, and say so."""
    messages = [replace_linked_folder(save_dir, name) for name in (STATE_FOLDER, recovery.RECOVERY_FOLDER)]
    return [message for message in messages if message]
