"""The label map being edited, with undo history and change notification.

Every edit goes through :meth:`Document.paint` (or :meth:`Document.set_label` for whole-map
replacements), so there is one place that finds the pixels that really change, saves them for
undo, writes them, and tells the canvas which rectangle to repaint. Tools only build shapes
(:mod:`segstudio.core.drawing`); they never write the map.

The document is the one announcer of its changes (psygnal signals, no toolkit): ``changed(rect)``
after every write of pixels (a brush dab, an undo...), ``committed(kind)`` once a step is complete
(a stroke released, a fill, an accepted prediction, an undo or redo). Whoever must react to edits
(the canvas, autosave, class counts, the error map) listens to these, so no caller has to remember
to announce the end of a gesture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from psygnal import Signal

from . import drawing
from .budgets import UNDO_BYTES
from .geometry import Rect
from .history import History

Listener = Callable[[Rect], None]

DEFAULT_HISTORY_BYTES = UNDO_BYTES  # core.budgets states it

EDIT, UNDO, REDO = "edit", "undo", "redo"  # the kinds of ``committed``


def _tight_rect(changed: np.ndarray, origin: Rect) -> Rect:
    """Bounding box (in map coordinates) of the True pixels of ``changed``, which lies at ``origin``."""
    rows = np.flatnonzero(changed.any(axis=1))
    cols = np.flatnonzero(changed.any(axis=0))
    return Rect(origin.x + int(cols[0]), origin.y + int(rows[0]),
                int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


class Document:
    """An (H, W) uint8 label map with undo/redo, a saved/dirty state and change listeners.

    ``label`` is a read-only view of the live map: read it freely (it changes in place), but edit
    only through this class. ``image`` is the (H, W, 3) picture, used by colour-limited fills.
    """

    changed = Signal(object)  # Rect: pixels under it were written (every dab, undo, remap)
    committed = Signal(str)  # EDIT, UNDO or REDO: one complete step (a stroke released...)

    def __init__(
        self,
        label: np.ndarray,
        image: np.ndarray | None = None,
        history_bytes: int = DEFAULT_HISTORY_BYTES,
    ) -> None:
        label = np.asarray(label)
        if label.ndim != 2:
            raise ValueError(f"a label map must be 2-D, got shape {label.shape}")
        if image is not None and np.asarray(image).shape[:2] != label.shape:
            raise ValueError(f"image {np.asarray(image).shape[:2]} and label {label.shape} differ in size")
        self._label = np.array(label, dtype=np.uint8, order="C", copy=True)
        self.label = self._label.view()
        self.label.flags.writeable = False
        self.image = image
        self.history = History(history_bytes)
        self.revision = 0
        self._saved_state: object = self.history.state  # object(): equal to no state (not saved)
        self._stroke_depth = 0  # begin_stroke nesting: a step is committed when it returns to 0
        self._stroke_changed = False  # pixels changed inside the open stroke
        self.locked: str | None = None  # why no edit is accepted (see lock)

    # --- properties --------------------------------------------------------------------------
    @property
    def height(self) -> int:
        return self._label.shape[0]

    @property
    def width(self) -> int:
        return self._label.shape[1]

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    @property
    def dirty(self) -> bool:
        """True when the map differs from what was last saved (undoing back to it makes it clean)."""
        return self.history.state != self._saved_state

    def adopt_history(self, history: History, saved: bool = True) -> None:
        """Continue ``history``, recorded on a map equal to this one (the same image, left and opened
        again). ``saved``: this state is the one on disk (else the document stays dirty, e.g. while
        the save of these edits is still on its way)."""
        self.history = history
        self._saved_state = history.state if saved else object()

    def lock(self, reason: str) -> None:
        """Accept no edit from now on: every edit primitive returns None and changes nothing.

        For a map that nothing may write (another window edits the image): an edit that
        could never be saved would otherwise be dropped unseen when the image goes away, so it is
        refused here, in the one place every tool, accept and undo goes through.
        """
        self.locked = reason

    def mark_saved(self) -> None:
        """Record that the current contents are on disk."""
        self._saved_state = self.history.state

    # --- listeners ---------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(rect)`` after every change (the ``changed`` signal; connected once)."""
        self.changed.connect(listener, unique=True)

    def remove_listener(self, listener: Listener) -> None:
        self.changed.disconnect(listener, missing_ok=True)

    def _changed(self, rect: Rect) -> Rect:
        self.revision += 1
        self.changed.emit(rect)
        if self._stroke_depth:
            self._stroke_changed = True
        return rect

    def _step_done(self, rect: Rect | None, kind: str = EDIT) -> Rect | None:
        """After a write outside any stroke: the step is complete (``committed``) if it changed."""
        if rect is not None and not self._stroke_depth:
            self.committed.emit(kind)
        return rect

    # --- the edit primitives -----------------------------------------------------------------
    def begin_stroke(self) -> None:
        """Group the following edits into one undo step until the matching :meth:`end_stroke`."""
        self.history.begin()
        self._stroke_depth += 1

    def end_stroke(self) -> None:
        """Close the stroke begun last; the outermost one commits the step (``committed``)."""
        self.history.end()
        if not self._stroke_depth:
            return
        self._stroke_depth -= 1
        if not self._stroke_depth and self._stroke_changed:
            self._stroke_changed = False
            self.committed.emit(EDIT)

    def paint(self, bbox: Rect, mask: np.ndarray, value: int) -> Rect | None:
        """Set the pixels of ``mask`` (placed at ``bbox``) to ``value``.

        Returns the tight bounding box of the pixels that really changed, or None when none did
        (then no undo step is made). Parts of ``bbox`` outside the map are ignored.
        """
        value = int(value)
        if not 0 <= value <= 255:
            raise ValueError(f"label value {value} outside 0..255")
        if self.locked:
            return None
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (bbox.h, bbox.w):
            raise ValueError(f"mask shape {mask.shape} does not match rectangle {bbox}")
        rect = bbox.clip(self.width, self.height)
        if rect.is_empty:
            return None
        if rect != bbox:
            mask = mask[rect.translated(-bbox.x, -bbox.y).slices]
        region = self._label[rect.slices]
        changed = mask & (region != value)
        if not changed.any():
            return None
        tight = _tight_rect(changed, rect)
        self.history.begin()
        try:
            self.history.record(self._label, tight)
            np.copyto(region, value, where=changed, casting="unsafe")
            self.history.changed()
        finally:
            self.history.end()
        return self._step_done(self._changed(tight))

    def set_label(self, new_label: np.ndarray) -> Rect | None:
        """Replace the whole map (class remap, accepted prediction) as one undo step.

        Only the tiles that differ are saved. Returns the bounding box of the changes or None.
        """
        new_label = np.asarray(new_label)
        if self.locked:
            return None
        if new_label.shape != self._label.shape:
            raise ValueError(f"new label {new_label.shape} differs in size from {self._label.shape}")
        if new_label.dtype != np.uint8:
            if new_label.size and (new_label.min() < 0 or new_label.max() > 255):
                raise ValueError("label values must be in 0..255")
            new_label = new_label.astype(np.uint8)
        diff = new_label != self._label
        if not diff.any():
            return None
        tight = _tight_rect(diff, Rect(0, 0, self.width, self.height))
        self.history.begin()
        try:
            self.history.record_tiles(self._label, self._touched_tiles(diff), tight)
            np.copyto(self._label, new_label)
            self.history.changed()
        finally:
            self.history.end()
        return self._step_done(self._changed(tight))

    def remap_classes(self, lut: np.ndarray) -> Rect | None:
        """Renumber the map and its undo history through a (256,) ``lut`` (class delete/reorder).

        Not an undo step of its own: undoing it would bring back numbers that the class list no
        longer has. Instead the saved history is renumbered too, so undo/redo keep working in the
        new numbering. The dirty state is unchanged (the file on disk is remapped the same way).
        """
        lut = np.asarray(lut, dtype=np.uint8)
        if lut.shape != (256,):
            raise ValueError(f"a class remap is a (256,) table, got {lut.shape}")
        new_label = lut[self._label]
        diff = new_label != self._label
        self.history.remap(lut)
        if not diff.any():
            return None
        np.copyto(self._label, new_label)
        return self._changed(_tight_rect(diff, Rect(0, 0, self.width, self.height)))

    def _touched_tiles(self, diff: np.ndarray) -> np.ndarray:
        """(tile rows, tile cols) bool grid: which history tiles hold a changed pixel."""
        tile = self.history.tile
        rows = np.logical_or.reduceat(diff, np.arange(0, self.height, tile), axis=0)
        return np.logical_or.reduceat(rows, np.arange(0, self.width, tile), axis=1)

    def undo(self) -> Rect | None:
        """Undo the last step (closing an open stroke first); returns the changed rectangle."""
        return None if self.locked else self._step_done(self._after_history(self.history.undo(self._label)), UNDO)

    def redo(self) -> Rect | None:
        return None if self.locked else self._step_done(self._after_history(self.history.redo(self._label)), REDO)

    def _after_history(self, rect: Rect | None) -> Rect | None:
        return None if rect is None else self._changed(rect)

    # --- convenience tools (all through paint) -------------------------------------------------
    def _paint_shape(self, shape: drawing.Shape | None, value: int) -> Rect | None:
        return None if shape is None else self.paint(shape[0], shape[1], value)

    def brush(self, x: float, y: float, radius: float, value: int) -> Rect | None:
        """One round dab (see :func:`drawing.disk` for the radius convention)."""
        return self._paint_shape(drawing.disk(x, y, radius, self.width, self.height), value)

    def brush_line(self, x0: float, y0: float, x1: float, y1: float, radius: float, value: int) -> Rect | None:
        """The brush dragged from one mouse position to the next, without gaps."""
        return self._paint_shape(drawing.line(x0, y0, x1, y1, radius, self.width, self.height), value)

    def fill_polygon(self, points: Sequence[tuple[float, float]], value: int) -> Rect | None:
        return self._paint_shape(drawing.polygon(points, self.width, self.height), value)

    def fill_rect(self, x0: float, y0: float, x1: float, y1: float, value: int) -> Rect | None:
        """Fill the rectangle with both corner pixels included."""
        return self._paint_shape(drawing.rectangle(x0, y0, x1, y1, self.width, self.height), value)

    def flood(self, x: float, y: float, value: int, tolerance: float | None = None) -> Rect | None:
        """Fill the 4-connected same-label region at (x, y), limited by image colour if ``tolerance``."""
        if tolerance is not None and self.image is None:
            raise ValueError("a colour tolerance needs the document's image")
        image = self.image if tolerance is not None else None
        return self._paint_shape(drawing.flood_fill(self._label, x, y, image, tolerance), value)

    def fill_unlabelled(self, value: int, unpainted: int = 0) -> Rect | None:
        """Give every unpainted pixel (``unpainted``: 0, or 255 in a scribble project) ``value``."""
        return self._paint_shape(drawing.unlabelled(self._label, unpainted), value)
