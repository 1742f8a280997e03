"""Loading one image of a project for editing, on a worker thread (every load, prefetch or not).

Everything slow happens here, off the window's thread: decoding, reading and checking the mask,
building the Document (with unsaved edits re-applied), counting labels and colouring the overlay.
What only a toolkit can build (the window's QImages and their shrunk copies) is made by a
``decorate`` hook the window hands the session, on the same worker thread; this module never
imports one.

A :class:`LoadedImage` is made on a worker and then handed to the window's thread, which owns it
from then on (the loader refreshes an earlier load only while no one else holds it: see
``load_queue``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from segstudio.application.live.scribbles import unpainted_value
from segstudio.application.session.recovery_store import RecoveryStore
from segstudio.core.document import Document
from segstudio.core.errors import SegStudioError
from segstudio.core.mask_repair import BACKUP, MaskDiagnosis
from segstudio.core.masks import label_counts
from segstudio.core.overlay import colour_buffer
from segstudio.core.project import ImageEntry, Project

Decorate = Callable[[np.ndarray], Any]  # the window's pixels for an RGB image (any thread)
Generation = tuple[int, int]  # the session's save counter for an entry (see save_queue.SaveBook)


@dataclass(eq=False)
class LoadedImage:
    """An image ready to show: pixels, the window's display of them, its Document, and any problem.

    Not frozen although it crosses threads: the loader refreshes an earlier load in place (its mask
    read again, its Document rebuilt: :func:`reload_mask`), and on the owner's thread it is updated
    afterwards (a repair's next diagnosis, the recovery copy taken once offered, the overlay handed
    to the window's layer)."""

    index: int
    entry: ImageEntry
    rgb: np.ndarray  # (H, W, 3) uint8
    display: Any = None  # what ``decorate`` made of ``rgb`` (the window's images)
    label: np.ndarray | None = None  # the mask on disk (None: unlabelled), until the document holds it
    mask_error: str | None = None
    mask_problem: MaskDiagnosis | None = None  # the mask on disk is unusable (see core.mask_repair)
    generation: Generation = (0, 0)  # the session's save counter for this entry when loading began
    document: Document | None = None  # built from ``label`` (or an empty map) in the loader
    counts: np.ndarray | None = None  # pixels per label value of ``document``
    overlay: np.ndarray | None = None  # the mask layer's pixels, coloured with ``overlay_lut``
    overlay_lut: np.ndarray | None = None
    pending: np.ndarray | None = None  # the unsaved snapshot re-applied to ``document`` (identity matters)
    recovery: np.ndarray | None = None  # a crash-recovery copy found by the loader, offered when shown

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def prepare_document(loaded: LoadedImage, lut: np.ndarray | None, pending: np.ndarray | None = None,
                     unpainted: int = 0) -> None:
    """Build the Document, its counts and its coloured overlay (the slow parts of showing an image).

    ``pending`` is an edited map not on disk yet (a save still running or failed): it is applied as
    one undo step over the saved mask, so the image opens dirty with those edits.
    """
    width, height = loaded.size
    label = loaded.label
    if label is None:  # no mask yet: every pixel is unpainted (0, or 255 for scribbles)
        label = np.full((height, width), unpainted, np.uint8)
    loaded.document = Document(label, image=loaded.rgb)
    loaded.pending = pending
    if pending is not None and pending.shape == (height, width):
        loaded.document.set_label(pending)
        loaded.label = label = loaded.document.label
    if loaded.label is None and unpainted == 0:
        loaded.counts = np.zeros(256, dtype=np.int64)
        loaded.counts[0] = width * height
        loaded.overlay = np.zeros((height, width, 4), np.uint8) if lut is not None else None
    else:
        loaded.counts = label_counts(label)
        loaded.overlay = colour_buffer(label, lut) if lut is not None else None
    loaded.overlay_lut = lut
    loaded.label = None  # the document holds its own copy


def reload_mask(loaded: LoadedImage, project: Project, generation: Generation, lut: np.ndarray | None,
                pending: np.ndarray | None = None) -> LoadedImage:
    """Read the mask of an already decoded image again (it was saved or rewritten meanwhile)."""
    loaded.label, loaded.mask_error, loaded.mask_problem = read_mask_or_problem(project, loaded.entry)
    loaded.generation = generation
    prepare_document(loaded, lut, pending, unpainted_value(project))
    return loaded


def load_for_editing(project: Project, index: int, generation: Generation = (0, 0),
                     lut: np.ndarray | None = None, pending: np.ndarray | None = None,
                     decorate: Decorate | None = None) -> LoadedImage:
    """Load entry ``index`` of ``project``; raises SegStudioError if the image cannot be read.

    A broken mask does not stop the image from opening: its diagnosis is kept (``mask_problem``),
    the session then writes nothing for this image until the user chooses a repair.
    """
    entry = project.entries[index]
    rgb = np.ascontiguousarray(project.load_image(entry))  # JPEGs decode without the GIL (core)
    display = decorate(rgb) if decorate is not None else None
    label, error, problem = read_mask_or_problem(project, entry)
    loaded = LoadedImage(index, entry, rgb, display, label, error, problem, generation)
    prepare_document(loaded, lut, pending, unpainted_value(project))
    return loaded


LoadJob = Callable[[LoadedImage | None], LoadedImage]  # job(base): base = an earlier load to refresh, or None


def load_job(project: Project, index: int, generation: Generation, lut: np.ndarray | None,
             pending: np.ndarray | None, recovery: RecoveryStore, decorate: Decorate | None = None) -> LoadJob:
    """A loader job for image ``index``: everything it must match is captured now (owner's thread).

    ``job(base)`` refreshes ``base`` (an earlier load of the same image: only the mask is read again
    when it was saved meanwhile) or loads from scratch, and reads the image's recovery copy, offered
    once the image is shown.
    """
    entry = project.entries[index]

    def job(base: LoadedImage | None) -> LoadedImage:
        if base is not None and base.entry == entry:
            if base.generation != generation or base.pending is not pending:
                reload_mask(base, project, generation, lut, pending)
            loaded = base
        else:
            loaded = load_for_editing(project, index, generation, lut, pending, decorate)
        loaded.recovery = recovery.read(entry.stem)
        return loaded

    return job


def read_mask_or_problem(project: Project, entry: ImageEntry
                         ) -> tuple[np.ndarray | None, str | None, MaskDiagnosis | None]:
    """(label, error message, diagnosis): the mask on disk, or why it cannot be used as it is."""
    label = None
    try:
        label, problem = project.inspect_mask(entry)
    except SegStudioError as exc:  # not even diagnosed: the file can only be moved aside
        problem = MaskDiagnosis(entry.mask_path, "format", str(exc), (BACKUP,))
    return label, (problem.message if problem is not None else None), problem
