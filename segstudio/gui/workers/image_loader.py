"""Loading one image of a project for display, in a worker thread (every load, prefetch or not).

Everything slow happens here, off the GUI thread: decoding, the shrunk copies used when zoomed out,
reading and checking the mask, building the Document (with unsaved edits re-applied), counting
labels and colouring the overlay. QImage (unlike QPixmap) may be built in any thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PySide6.QtGui import QImage

from segstudio.application.scribbles import unpainted_value
from segstudio.core.document import Document
from segstudio.core.errors import SegStudioError
from segstudio.core.mask_repair import BACKUP, MaskDiagnosis
from segstudio.core.masks import label_counts
from segstudio.gui.canvas.overlay_layer import colour_buffer

MIN_LEVEL_SIDE = 512  # no shrunk copy smaller than this


@dataclass
class LoadedImage:
    """An image ready to show: pixels, QImages, the mask on disk (or None) and any problem."""

    index: int
    entry: object  # core.project.ImageEntry
    rgb: np.ndarray  # (H, W, 3) uint8, shared with ``qimage``
    qimage: QImage
    pyramid: list[QImage] = field(default_factory=list)
    label: np.ndarray | None = None  # the mask on disk (None: unlabelled)
    mask_error: str | None = None
    mask_problem: object | None = None  # core.mask_repair.MaskDiagnosis: the mask on disk is unusable
    generation: int = 0  # the session's save counter for this entry when loading began
    document: Document | None = None  # built from ``label`` (or an empty map) in the loader
    counts: np.ndarray | None = None  # pixels per label value of ``document``
    overlay: np.ndarray | None = None  # the mask layer's pixels, coloured with ``overlay_lut``
    overlay_lut: np.ndarray | None = None
    pending: np.ndarray | None = None  # the unsaved snapshot re-applied to ``document`` (identity matters)
    recovery: np.ndarray | None = None  # a crash-recovery copy found by the loader, offered when shown

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def rgb_qimage(rgb: np.ndarray) -> QImage:
    """A QImage sharing memory with a contiguous (H, W, 3) array (keep the array alive)."""
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888)


def build_pyramid(rgb: np.ndarray) -> list[tuple[np.ndarray, QImage]]:
    """Copies shrunk by 2, 4, 8... (area averaging) for smooth, cheap drawing when zoomed out."""
    levels = []
    current = rgb
    while min(current.shape[:2]) // 2 >= MIN_LEVEL_SIDE:
        height, width = current.shape[:2]
        current = np.ascontiguousarray(cv2.resize(current, (width // 2, height // 2), interpolation=cv2.INTER_AREA))
        levels.append((current, rgb_qimage(current)))
    return levels


class _PyramidImages(list):
    """A list of QImages that also keeps their numpy buffers alive."""

    arrays: list[np.ndarray]


def prepare_document(loaded: LoadedImage, lut: np.ndarray | None, pending: np.ndarray | None = None,
                     unpainted: int = 0) -> None:
    """Build the Document, its counts and its coloured overlay (the slow parts of showing an image).

    ``pending`` is an edited map not on disk yet (a save still running or failed): it is applied as
    one undo step over the saved mask, so the image opens dirty with those edits.
    """
    width, height = loaded.size
    fresh = loaded.label is None  # no mask yet: every pixel is unpainted (0, or 255 for scribbles)
    label = loaded.label if not fresh else np.full((height, width), unpainted, np.uint8)
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


def reload_mask(loaded: LoadedImage, project, generation, lut, pending: np.ndarray | None = None) -> LoadedImage:
    """Read the mask of an already decoded image again (it was saved or rewritten meanwhile)."""
    loaded.label, loaded.mask_error, loaded.mask_problem = _read_mask(project, loaded.entry)
    loaded.generation = generation
    prepare_document(loaded, lut, pending, unpainted_value(project))
    return loaded


def load_for_display(
    project, index: int, generation=0, lut: np.ndarray | None = None, pending: np.ndarray | None = None
) -> LoadedImage:
    """Load entry ``index`` of ``project``; raises SegStudioError if the image cannot be read.

    A broken mask does not stop the image from opening: its diagnosis is kept (``mask_problem``),
    the session then writes nothing for this image until the user chooses a repair.
    """
    entry = project.entries[index]
    rgb = np.ascontiguousarray(project.load_image(entry))  # JPEGs decode without the GIL (core)
    levels = build_pyramid(rgb)
    pyramid = _PyramidImages(image for _, image in levels)
    pyramid.arrays = [array for array, _ in levels]
    label, error, problem = _read_mask(project, entry)
    loaded = LoadedImage(index, entry, rgb, rgb_qimage(rgb), pyramid, label, error, problem, generation)
    prepare_document(loaded, lut, pending, unpainted_value(project))
    return loaded


def load_job(project, index: int, generation, lut: np.ndarray | None, pending: np.ndarray | None, recovery):
    """A loader job for image ``index``: everything it must match is captured now (GUI thread).

    ``job(base)`` refreshes ``base`` (an earlier load of the same image: only the mask is read again
    when it was saved meanwhile) or loads from scratch, and reads the image's recovery copy from
    ``recovery`` (application.recovery_store.RecoveryStore), offered once the image is shown.
    """
    entry = project.entries[index]

    def job(base: LoadedImage | None) -> LoadedImage:
        if base is not None and base.entry == entry:
            if base.generation != generation or base.pending is not pending:
                reload_mask(base, project, generation, lut, pending)
            loaded = base
        else:
            loaded = load_for_display(project, index, generation, lut, pending)
        loaded.recovery = recovery.read(entry.stem)
        return loaded

    return job


def _read_mask(project, entry) -> tuple[np.ndarray | None, str | None, object | None]:
    """(label, error message, diagnosis): the mask on disk, or why it cannot be used as it is."""
    label = None
    try:
        label, problem = project.inspect_mask(entry)
    except SegStudioError as exc:  # not even diagnosed: the file can only be moved aside
        problem = MaskDiagnosis(entry.mask_path, "format", str(exc), (BACKUP,))
    return label, (problem.message if problem is not None else None), problem
