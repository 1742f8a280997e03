"""Project-wide changes: the project lock, taken only while nobody else edits an image.

Editing one image needs only its claim (``core.claims``). A change that touches every mask or the
class list (a class rename, move or delete rewriting every mask; adding a class; a clean-up over
every mask; an import) would change files under the people editing them, so it takes the project
lock (``core.project_lock``, now meaning "exclusive") for its duration, and is refused, with who
is in the way, while anyone else holds a claim.

The two sides check each other in opposite order, so that they can never both go ahead: the
project-wide change creates the lock and *then* looks for claims; a window creates its claim and
*then* looks for the lock (``application.session``), giving the claim up when it finds one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from . import project_lock
from .claims import Claim, ClaimBook
from .errors import SaveError

MAX_NAMED = 3  # people named in a refusal; the rest are counted


class ProjectBusy(SaveError):
    """Others are editing images of the project: no project-wide change now."""


def busy_reason(others: dict[str, Claim]) -> str:
    """"alice (img3) and bob (img5, img6) are editing images" for the claims of others, by stem."""
    by_person: dict[str, list[str]] = {}
    for stem, claim in sorted(others.items()):
        by_person.setdefault(claim.describe().split(" since ")[0], []).append(stem)
    named = [f"{who} ({', '.join(stems[:MAX_NAMED])}{'…' if len(stems) > MAX_NAMED else ''})"
             for who, stems in list(by_person.items())[:MAX_NAMED]]
    more = len(by_person) - len(named)
    people = ", ".join(named) + (f" and {more} more" if more > 0 else "")
    return f"{people} {'is' if len(by_person) == 1 else 'are'} editing images of this project"


def take(save_dir: str | os.PathLike, book: ClaimBook | None, what: str) -> project_lock.ProjectLock:
    """The project lock for the change ``what`` ("change the classes"); :class:`ProjectBusy` while
    others hold claims (``book``'s own claims do not count), SaveError when another change runs."""
    try:
        lock = project_lock.acquire(save_dir)
    except project_lock.ProjectLocked as exc:
        raise SaveError(f"cannot {what}: {exc}") from None
    observer = book if book is not None else ClaimBook(save_dir, "observer")
    try:
        others = observer.others()
    finally:
        if book is None:
            observer.release_all()
    if others:
        lock.release()
        raise ProjectBusy(f"cannot {what} now: {busy_reason(others)}; try again when they have moved on")
    return lock


@contextlib.contextmanager
def locked(save_dir: str | os.PathLike, what: str = "write into the project") -> Iterator[
        project_lock.ProjectLock | None]:
    """Hold the project lock while a command changes the project (the CLI's imports): SaveError
    with the reason while a window edits an image or another change runs. A save folder that does
    not exist yet is open nowhere: nothing is created for the lock."""
    if not Path(save_dir).is_dir():
        yield None
        return
    lock = take(save_dir, None, what)
    try:
        yield lock
    finally:
        lock.release()
