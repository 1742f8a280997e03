"""Class editing for the window: add, rename, recolour, delete, reorder.

Renaming keeps indices (only the XML names change); deleting or moving a class renumbers pixels, so
every mask of the project is rewritten (after asking, off the GUI thread, all-or-nothing: see
remap_worker). The current image's unsaved edits are saved first so the rewrite includes them.
"""

from __future__ import annotations

import numpy as np

from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX

from . import dialogs, remap_worker

IDENTITY = np.arange(256, dtype=np.uint8)


class ClassEditor:
    """Performs the class dock's requests on the window's project."""

    def __init__(self, window) -> None:
        self.window = window

    @property
    def project(self):
        return self.window.session.project

    def add(self) -> int | None:
        if self.project is None:
            return None
        name = dialogs.ask_text(self.window, "Add class", "Name of the new class:")
        if not name:
            return None
        try:
            index = self.project.classes.add(name)
            self.project.save_classes()
        except SegStudioError as exc:
            dialogs.error(self.window, "Add class", str(exc))
            return None
        self.window.classes_changed(select=index)
        return index

    def rename(self, index: int) -> bool:
        if self.project is None or index == IGNORE_INDEX:
            return False
        if not self._prepare():
            return False
        old = self.project.classes.copy()
        name = dialogs.ask_text(self.window, "Rename class", f"New name for class {index}:", old.names[index])
        if not name or name == old.names[index]:
            return False
        try:
            self.project.classes.rename(index, name)
        except SegStudioError as exc:
            dialogs.error(self.window, "Rename class", str(exc))
            return False
        # Indices are unchanged: masks keep their pixels; only the XML object names are rewritten.
        return self._rewrite(IDENTITY, old, f"Renaming {old.names[index]!r} to {name!r}…", select=index)

    def recolour(self, index: int) -> bool:
        if self.project is None or not 0 <= index < len(self.project.classes):
            return False
        classes = self.project.classes
        colour = dialogs.ask_colour(self.window, classes.colours[index], f"Colour of {classes.names[index]}")
        if colour is None:
            return False
        classes.colours[index] = tuple(colour)
        self.window.classes_changed(select=index)
        return True

    def delete(self, index: int) -> bool:
        project = self.project
        if project is None or index in (0, IGNORE_INDEX) or index >= len(project.classes):
            return False
        name = project.classes.names[index]
        count = len(project.labelled_entries())
        if not dialogs.confirm(
            self.window,
            "Delete class",
            f"Delete class {index} {name!r}?\n\nIts pixels become background and the classes after it "
            f"move down one index in every mask ({count} mask files are rewritten).",
        ):
            return False
        if not self._prepare():
            return False
        old = project.classes.copy()
        lut = project.classes.delete(index)
        return self._rewrite(lut, old, f"Deleting class {name!r}…")

    def move(self, index: int, delta: int) -> bool:
        project = self.project
        if project is None:
            return False
        target = index + delta
        if index in (0, IGNORE_INDEX) or not 1 <= target < len(project.classes):
            return False
        names = project.classes.names
        if not dialogs.confirm(
            self.window,
            "Reorder classes",
            f"Swap classes {index} {names[index]!r} and {target} {names[target]!r}?\n\n"
            f"Every mask ({len(project.labelled_entries())} files) is renumbered.",
        ):
            return False
        if not self._prepare():
            return False
        old = project.classes.copy()
        order = list(range(len(names)))
        order[index], order[target] = order[target], order[index]
        lut = project.classes.reorder(order)
        return self._rewrite(lut, old, "Reordering classes…", select=target)

    def _prepare(self) -> bool:
        """Put every edit on disk (with the old classes) so that the rewrite includes it."""
        window, session = self.window, self.window.session
        window.tools.cancel()
        if session.dirty:
            session.save_async()
        session.flush()
        if session.has_unsaved_snapshots():
            dialogs.error(window, "Classes", "Some edits could not be saved; fix saving before changing classes.")
            return False
        return True

    def _rewrite(self, lut: np.ndarray, old, title: str, select: int | None = None) -> bool:
        """Rewrite all masks through ``lut``; on failure restore the old class list."""
        window, session, project = self.window, self.window.session, self.project
        message = remap_worker.run_with_progress(window, project, lut, title)
        if message is not None:
            project.classes = old
            if message:
                dialogs.error(window, "Classes", f"The masks were not changed: {message}")
            window.classes_changed()
            return False
        current = window.tools.current_class
        new_current = int(lut[current]) if current != IGNORE_INDEX else current
        window.tools.current_class = new_current if new_current != 0 else min(1, len(project.classes) - 1)
        session.reload_current()
        window.classes_changed(select=select if select is not None else window.tools.current_class)
        return True
