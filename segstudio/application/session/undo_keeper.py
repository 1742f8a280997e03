"""Undo across image switches: the undo history of each image left, given back when it returns.

A user who paints image 3, goes to image 4 and comes back expects Ctrl+Z to undo their strokes on
image 3 (CVAT keeps undo per job). A document's history only fits the label map it was recorded
on, so it is given back only when the map loaded again is exactly the one left (compared by a
digest): after an external change, a class rewrite or a failed save the steps would be wrong and
are dropped. The histories kept share one byte budget, oldest image dropped first.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from segstudio.core.budgets import KEPT_UNDO_BYTES
from segstudio.core.document import Document
from segstudio.core.history import History


@dataclass
class _Kept:
    digest: bytes
    history: History


def _digest(label: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(label).data, digest_size=16).digest() + repr(label.shape).encode()


class UndoKeeper:
    """Histories of the images left, by key (the image path), within ``budget_bytes`` together."""

    def __init__(self, budget_bytes: int = KEPT_UNDO_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()

    def keep(self, key: Hashable, document: Document) -> None:
        """Remember ``document``'s history as the image ``key`` is left (its map as it is now)."""
        self._kept.pop(key, None)
        if document.history.can_undo or document.history.can_redo:
            self._kept[key] = _Kept(_digest(document.label), document.history)
            self._trim()

    def give_back(self, key: Hashable, document: Document) -> bool:
        """Attach the history kept for ``key`` to ``document`` if its map is the one left; True if so."""
        kept = self._kept.pop(key, None)
        if kept is None or _digest(document.label) != kept.digest:
            return False
        # A map re-applied from edits still being saved arrives dirty: it stays so, with its history.
        document.adopt_history(kept.history, saved=not document.dirty)
        return True

    def clear(self) -> None:
        """Another project: nothing kept applies any more."""
        self._kept.clear()

    @property
    def nbytes(self) -> int:
        return sum(kept.history.nbytes for kept in self._kept.values())

    def _trim(self) -> None:
        while len(self._kept) > 1 and self.nbytes > self.budget_bytes:
            self._kept.popitem(last=False)
        if self._kept and self.nbytes > self.budget_bytes:
            self._kept.clear()
