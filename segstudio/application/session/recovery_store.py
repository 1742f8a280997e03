"""The recovery copies of one open project: where they go, when one is offered, when it is removed.

With autosave off, the edits of the image being painted are written as a copy (core.recovery, which
never follows a link and only reads or deletes copies we could have written). The rules here decide
what happens to a copy found when an image opens: a copy older than the mask is stale, an unreadable
or wrong-size copy is of no use (both are removed), anything else is offered to the user. A project
opened read-only (it is open in another window) never removes a copy: it may be that window's work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segstudio.core import recovery


class RecoveryStore:
    """Recovery copies of the project whose save folder is ``save_dir``."""

    def __init__(self, save_dir: Path, read_only: bool = False) -> None:
        self.save_dir = Path(save_dir)
        self.read_only = read_only

    def path(self, stem: str) -> Path:
        return recovery.recovery_path(self.save_dir, stem)

    def read(self, stem: str) -> np.ndarray | None:
        """The copy of image ``stem`` if there is a readable one of ours (loader threads)."""
        return recovery.read_copy(self.path(stem))

    def write(self, stem: str, label: np.ndarray, colours: np.ndarray | None) -> None:
        """Write the copy atomically (writer thread); SaveError when the folder is a link."""
        recovery.write_copy(self.save_dir, stem, label, colours)

    def remove(self, stem: str) -> None:
        """Delete the copy of ``stem`` (a save made it stale, or the user declined it)."""
        if not self.read_only:
            recovery.remove_copy(self.path(stem))

    def waiting(self, stems: list[str]) -> list[str]:
        """The stems among ``stems`` that have a recovery copy (checked when a project opens, so the
        user hears of unsaved work on every image, not only on the one opened first)."""
        if self.read_only:
            return []
        return [stem for stem in stems if recovery.is_copy(self.path(stem))]

    def to_offer(self, stem: str, mask_path: Path, found: np.ndarray | None,
                 shape: tuple[int, ...]) -> np.ndarray | None:
        """The copy worth offering for image ``stem`` whose document has ``shape``, or None.

        ``found`` is the copy the loader thread read (None: read it now, it may have been written
        after the load began). Stale, unreadable and wrong-size copies are removed on the way.
        """
        path = self.path(stem)
        if self.read_only or not recovery.is_copy(path):
            return None
        mask_path = Path(mask_path)
        if mask_path.is_file() and mask_path.stat().st_mtime > path.stat().st_mtime:
            self.remove(stem)  # the mask was saved after the copy was written
            return None
        label = found if found is not None else self.read(stem)
        if label is None or label.shape != tuple(shape):
            self.remove(stem)
            return None
        return label
