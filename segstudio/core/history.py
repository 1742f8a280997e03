"""Undo/redo of label-map edits, bounded in bytes.

Why tiles: saving the whole 48 MB map per stroke would fill memory after a handful of strokes,
while saving single pixels costs more bookkeeping than the pixels themselves. The map is cut into
``tile × tile`` squares; the first time an undo step touches a square its old contents are copied.
Undoing swaps the saved squares with the live ones, so the same storage then holds what redo needs
and the byte count does not change. Steps are dropped oldest first when the budget is exceeded; a
single step larger than the whole budget cannot be undone, and then nothing before it can either.

The history also keeps a *state token*: a number that identifies the current contents of the map
(each change makes a new one, undo/redo return to the old ones), so the document can tell whether
it is back at its saved state.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from .budgets import UNDO_BYTES
from .geometry import Rect

DEFAULT_TILE = 64
# Python bookkeeping per saved tile (dict entry, array header), counted against the budget so that
# many small tiles cannot exceed it unnoticed.
TILE_OVERHEAD_BYTES = 200


@dataclass
class _Step:
    """One undo step: saved tiles keyed by (tile row, tile column), and the states around it."""

    before: int
    after: int
    tiles: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    rect: Rect = field(default_factory=Rect.empty)
    nbytes: int = 0
    overflowed: bool = False


class History:
    """Tile-based undo/redo for one (H, W) uint8 label map.

    Use: ``begin()``; before each write ``record(label, rect)`` then, after writing, ``changed()``;
    ``end()``. Nested begin/end pairs make one step. Undo/redo write into ``label`` directly.
    """

    def __init__(self, budget_bytes: int = UNDO_BYTES, tile: int = DEFAULT_TILE) -> None:
        if tile <= 0:
            raise ValueError("tile size must be positive")
        self.budget_bytes = int(budget_bytes)
        self.tile = int(tile)
        self._undo: deque[_Step] = deque()
        self._redo: list[_Step] = []
        self._open: _Step | None = None
        self._depth = 0
        self._tokens = count(1)
        self.state = 0  # token of the current map contents
        self._stored = 0  # bytes in _undo and _redo

    # --- queries -----------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Bytes held (saved tiles plus bookkeeping), open step included."""
        return self._stored + (self._open.nbytes if self._open else 0)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) or self._open_has_tiles()

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_steps(self) -> int:
        return len(self._undo) + (1 if self._open_has_tiles() else 0)

    @property
    def redo_steps(self) -> int:
        return len(self._redo)

    def remap(self, lut: np.ndarray) -> None:
        """Renumber every saved tile through ``lut`` (a class delete or reorder).

        The live map is renumbered by the caller; renumbering the saved tiles the same way keeps
        every undo and redo step meaningful under the new class numbers (a deleted class comes
        back as background, since it no longer exists).
        """
        lut = np.asarray(lut, dtype=np.uint8)
        steps = list(self._undo) + self._redo + ([self._open] if self._open is not None else [])
        for step in steps:
            for tile in step.tiles.values():
                np.take(lut, tile, out=tile)

    def clear(self) -> None:
        """Forget every step (the map keeps its contents and its state token)."""
        self._undo.clear()
        self._redo.clear()
        self._stored = 0
        if self._open is not None:
            self._open = _Step(self.state, self.state)

    # --- grouping ----------------------------------------------------------------------------
    def begin(self) -> None:
        """Start (or nest into) a step; everything until the matching :meth:`end` undoes at once."""
        self._depth += 1

    def end(self) -> None:
        """Close one nesting level; the outermost one commits the step. Extra calls are ignored."""
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self._commit_open()

    # --- recording ---------------------------------------------------------------------------
    def record(self, label: np.ndarray, rect: Rect) -> None:
        """Save the tiles under ``rect`` not saved yet in this step; call before writing ``rect``."""
        keys = self._keys_in(rect, label.shape)
        self._save_tiles(label, keys, rect)

    def record_tiles(self, label: np.ndarray, touched: np.ndarray, rect: Rect) -> None:
        """Like :meth:`record` for scattered edits: ``touched`` is a (rows, cols) bool grid of tiles."""
        keys = [(int(r), int(c)) for r, c in zip(*np.nonzero(touched))]
        self._save_tiles(label, keys, rect)

    def changed(self) -> None:
        """Note that the map was written: its contents get a new state token."""
        self.state = next(self._tokens)
        if self._open is not None:
            self._open.after = self.state

    # --- undo / redo -------------------------------------------------------------------------
    def undo(self, label: np.ndarray) -> Rect | None:
        """Restore the state before the last step; returns the rectangle that changed."""
        self._commit_open()
        if not self._undo:
            return None
        step = self._undo.pop()
        self._swap(label, step)
        self._redo.append(step)
        self.state = step.before
        return step.rect

    def redo(self, label: np.ndarray) -> Rect | None:
        """Re-apply the last undone step; returns the rectangle that changed."""
        self._commit_open()
        if not self._redo:
            return None
        step = self._redo.pop()
        self._swap(label, step)
        self._undo.append(step)
        self.state = step.after
        return step.rect

    # --- internals ---------------------------------------------------------------------------
    def _open_has_tiles(self) -> bool:
        return self._open is not None and bool(self._open.tiles)

    def _tile_slices(self, key: tuple[int, int]) -> tuple[slice, slice]:
        row, col = key
        t = self.tile
        return slice(row * t, (row + 1) * t), slice(col * t, (col + 1) * t)

    def _keys_in(self, rect: Rect, shape: tuple[int, ...]) -> list[tuple[int, int]]:
        rect = rect.clip(shape[1], shape[0])
        if rect.is_empty:
            return []
        t = self.tile
        rows = range(rect.y // t, (rect.bottom - 1) // t + 1)
        cols = range(rect.x // t, (rect.right - 1) // t + 1)
        return [(r, c) for r in rows for c in cols]

    def _ensure_open(self) -> _Step:
        if self._open is None:
            self._open = _Step(self.state, self.state)
            # A new edit makes the undone future unreachable.
            self._stored -= sum(step.nbytes for step in self._redo)
            self._redo.clear()
        return self._open

    def _save_tiles(self, label: np.ndarray, keys: list[tuple[int, int]], rect: Rect) -> None:
        step = self._ensure_open()
        step.rect = step.rect.union(rect)
        if step.overflowed:
            return
        for key in keys:
            if key in step.tiles:
                continue
            saved = label[self._tile_slices(key)].copy()
            step.tiles[key] = saved
            step.nbytes += saved.nbytes + TILE_OVERHEAD_BYTES
            if self.nbytes > self.budget_bytes and not self._make_room(step):
                return

    def _make_room(self, step: _Step) -> bool:
        """Drop the oldest steps until the budget holds; False if ``step`` alone is too big."""
        while self.nbytes > self.budget_bytes and (self._undo or self._redo):
            dropped = self._undo.popleft() if self._undo else self._redo.pop(0)
            self._stored -= dropped.nbytes
        if self.nbytes <= self.budget_bytes:
            return True
        # This step cannot be kept, so it cannot be undone, and nothing before it can be either.
        step.tiles.clear()
        step.nbytes = 0
        step.overflowed = True
        return False

    def _commit_open(self) -> None:
        step = self._open
        if step is None:
            return
        self._open = None
        if step.tiles and not step.overflowed:
            self._undo.append(step)
            self._stored += step.nbytes

    def _swap(self, label: np.ndarray, step: _Step) -> None:
        for key, saved in step.tiles.items():
            where = self._tile_slices(key)
            current = label[where].copy()
            label[where] = saved
            step.tiles[key] = current
