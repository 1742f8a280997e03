"""The session's writes as typed jobs, and the bookkeeping that tells what is on disk.

A :class:`SaveJob` is made on the GUI thread from a snapshot of the label map and CAPTURES the
project it belongs to (its :class:`~segstudio.application.session.open_project.OpenProject`). The writer
thread only runs :func:`run_job`, which writes into that project, never into the one open when the
job happens to run: a save queued just before another folder was opened used to be written with the
new project's classes and to delete the new project's recovery copy of the same name. A job whose
project was closed meanwhile is refused with a message that names it.

:class:`SaveBook` is the session's memory of writes: snapshots not on disk yet (a save still queued
or failed; an image opened again shows them), saves finished per image (a load that began before a
save must read the mask again) and writes not reported back yet (the "saving…" state).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segstudio.application.session.open_project import OpenProject
from segstudio.core.classes import apply_remap
from segstudio.core.document import Document
from segstudio.core.errors import SegStudioError
from segstudio.core.project import ImageEntry

SAVE = "save"  # the mask and its XML
RECOVERY = "recovery"  # a recovery copy (autosave off)
DISCARD = "discard"  # the user dropped the edits: remove the copy (after a copy still queued)
HELD_STATE = "mask not loaded: read-only"


@dataclass(frozen=True, eq=False)
class SaveJob:
    """One write, with everything it needs captured when it was queued (GUI thread)."""

    kind: str  # SAVE, RECOVERY or DISCARD
    target: OpenProject  # the project the snapshot belongs to
    entry: ImageEntry
    label: np.ndarray  # the snapshot (never the document's live array)
    index: int = -1  # the entry's index in its project (the file list row to refresh)
    verified: bool = False
    document: Document | None = None  # the one the snapshot came from (marked saved when still current)
    revision: int = 0  # its revision at snapshot time: later edits keep it dirty
    colours: np.ndarray | None = None  # palette of a recovery copy

    @property
    def name(self) -> str:
        return Path(self.entry.image_path).name


def run_job(job: SaveJob) -> str | None:
    """Writer thread: perform one write; None, or the reason it failed or was refused (every failure:
    a write that raises something unexpected must still end in "save failed")."""
    target = job.target
    if target.closed:
        return f"{job.name} not saved: its project {target.name} was closed before the write ran"
    try:
        if job.kind == SAVE:
            target.project.save(job.entry, job.label, verified=job.verified)
            target.recovery.remove(job.entry.stem)
        elif job.kind == RECOVERY:
            target.recovery.write(job.entry.stem, job.label, job.colours)
        else:
            target.recovery.remove(job.entry.stem)
    except (SegStudioError, OSError) as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - reported to the user, never left at "saving…"
        return f"{job.name}: {type(exc).__name__}: {exc}"
    return None


class SaveBook:
    """What the session knows about its writes (GUI thread only)."""

    def __init__(self) -> None:
        self.pending: dict[Path, np.ndarray] = {}  # snapshots not (yet) on disk, by image path
        self._generation: dict[Path, int] = {}  # saves finished per image
        self._epoch = 0  # bumped when masks were rewritten on disk (class remap)
        self.outstanding = 0  # writes submitted whose result has not been delivered yet

    def generation_of(self, image_path: Path) -> tuple[int, int]:
        """The state a load of ``image_path`` must match to be shown (else the mask is read again)."""
        return self._epoch, self._generation.get(image_path, 0)

    def submitted(self, job: SaveJob) -> None:
        self.outstanding += 1
        if job.kind == SAVE:
            self.pending[job.entry.image_path] = job.label

    def finished(self, job: SaveJob, error: str | None) -> None:
        """A write reported back. A save is counted even when it failed (the file may have changed)."""
        self.outstanding -= 1
        if job.kind != SAVE:
            return
        path = job.entry.image_path
        self._generation[path] = self._generation.get(path, 0) + 1
        if error is None and self.pending.get(path) is job.label:
            del self.pending[path]

    def discard(self, image_path: Path) -> None:
        """The user chose to lose these edits."""
        self.pending.pop(image_path, None)

    def forget_snapshots(self) -> None:
        """Another project opened: its images have other snapshots (none yet)."""
        self.pending.clear()

    def masks_rewritten(self, lut: np.ndarray | None = None) -> None:
        """Masks on disk changed (class remap): every load is stale; ``lut`` keeps snapshots' meaning."""
        self._epoch += 1
        if lut is not None:
            for path, label in list(self.pending.items()):
                self.pending[path] = apply_remap(label, lut)


def state_text(read_only: str | None, error: str | None, writing: bool, mask_blocked: bool,
               dirty: bool, other_pending: int) -> str:
    """The save state the status bar shows, most urgent first."""
    if read_only:
        return read_only
    if error is not None:
        return "save failed"
    if writing:
        return "saving…"
    if mask_blocked:
        return HELD_STATE
    if dirty:
        return "unsaved changes"
    if other_pending:
        return f"{other_pending} other image(s) not saved"
    return "saved"
