"""Class editing for the window: add, rename, recolour, delete, reorder.

* Add and rename never touch a mask or the undo history: add appends a line to classes.txt; rename
  keeps indices, so only the XML files (which hold names) and classes.txt are rewritten, off the
  GUI thread.
* Recolour stores the colour by class name in the project's settings (``.segstudio/project.json``);
  masks written afterwards carry it in their palette.
* Delete and reorder renumber pixels: the open image and its undo history are remapped in memory
  (``Document.remap_classes``, so undo keeps working in the new numbering), and every mask on disk
  is rewritten off the GUI thread, all-or-nothing and crash-safe (application.class_rewrite, core.journal).
  Writes and image switches wait while the rewrite runs, so no save can race with it.
"""

from __future__ import annotations

import numpy as np

from segstudio.application.class_rewrite import IDENTITY, is_identity
from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.window import dialogs
from segstudio.gui.workers import remap_worker


class ClassEditor:
    """Performs the class dock's requests on the window's project."""

    def __init__(self, window) -> None:
        self.window = window
        self.rewriting = False  # a project-wide rewrite is running (the GUI stays live meanwhile)

    @property
    def project(self):
        return self.window.session.project

    def _editable(self):
        """The open project, or None when there is none or it is read-only (open in another window:
        every class edit writes files, so it is refused, with a message). Also None while a rewrite
        runs: a second edit would change the class list under the first one's files."""
        session = self.window.session
        if self.rewriting:
            self.window.statusBar().showMessage("The masks are being rewritten: change the classes "
                                                "again when it is done", 5000)
            return None
        if session.project is not None and session.read_only:
            message = f"The project is {session.read_only}; classes cannot be changed here."
            dialogs.error(self.window, "Classes", message)
            return None
        return session.project

    def add(self) -> int | None:
        if self._editable() is None:
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
        if self._editable() is None or not 0 <= index < len(self.project.classes):
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
        if self._editable() is None or not 0 <= index < len(self.project.classes):
            return False
        classes = self.project.classes
        colour = dialogs.ask_colour(self.window, classes.colours[index], f"Colour of {classes.names[index]}")
        if colour is None:
            return False
        classes.colours[index] = tuple(int(v) for v in colour)
        self._save_colours()
        self.window.classes_changed(select=index)
        return True

    def delete(self, index: int) -> bool:
        project = self._editable()
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
        old = project.classes.copy()
        lut = project.classes.delete(index)
        return self._rewrite(lut, old, f"Deleting class {name!r}…")

    def move(self, index: int, delta: int) -> bool:
        project = self._editable()
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
        old = project.classes.copy()
        order = list(range(len(names)))
        order[index], order[target] = order[target], order[index]
        lut = project.classes.reorder(order)
        return self._rewrite(lut, old, "Reordering classes…", select=target)

    def resolve_conflict(self) -> bool:
        """classes.txt (or the command-line class file) differs from the list the masks were
        written with: remap the masks by name, or keep the recorded list (rewriting classes.txt).
        Declining keeps the recorded list for this session (asked again at the next open)."""
        project = self.project
        conflict = project.class_conflict if project is not None else None
        if conflict is None:
            return True
        if self.rewriting:
            return False  # asked again at the next open
        choice = dialogs.ask_class_mismatch(self.window, conflict.message)
        if choice == "remap":
            old = project.classes.copy()
            project.classes = conflict.proposed.copy()
            if not self._rewrite(conflict.remap_lut(), old, "Remapping the masks to the new class list…"):
                return False
        elif choice == "recorded":
            try:
                project.use_recorded_classes()
            except (SegStudioError, OSError) as exc:
                dialogs.error(self.window, "Classes", f"classes.txt not rewritten: {exc}")
                return False
            self.window.classes_changed()
        else:
            self.window.statusBar().showMessage(f"{conflict.message}; using the recorded list for now", 20000)
            return False
        project.class_conflict = None
        return True

    def _save_colours(self) -> None:
        try:
            self.project.save_class_colours()
        except SegStudioError as exc:
            self.window.statusBar().showMessage(f"Class colours not saved: {exc}", 10000)

    def _pool(self):
        """The window's class-rewrite pool (shut down with the window's other pools)."""
        return self.window.pools.pool("class-rewrite")

    def _rewrite(self, lut: np.ndarray, old, title: str, select: int | None = None) -> bool:
        """Rewrite the project's files through ``lut`` and remap the open image in memory; on
        failure restore the old class list (nothing on disk or in memory changed)."""
        window, session, project = self.window, self.window.session, self.project
        window.tools.cancel()
        identity = is_identity(lut)
        document = session.document
        with session.hold_writes():
            self.rewriting = True
            try:
                message = remap_worker.run_with_progress(window, project, lut, title, self._pool())
            finally:
                self.rewriting = False
            if message is None and not identity:
                session.masks_rewritten(lut)
                if document is not None and session.document is document:
                    # map and undo history renumbered together; dirty state unchanged, since
                    # the file on disk was remapped the same way
                    document.remap_classes(lut)
        if message is not None:
            project.classes = old
            if message:
                dialogs.error(window, "Classes", f"The files were not changed: {message}")
            window.classes_changed()
            return False
        if project.settings.get("class_colours") or project.classes.colour_map():
            self._save_colours()  # colours are kept by name: a rename moves them along
        if session.dirty:
            session.edit_finished()  # autosave (or a recovery copy) as after any edit
        if not identity:
            current = window.tools.current_class
            new_current = int(lut[current]) if current != IGNORE_INDEX else current
            window.tools.current_class = new_current if new_current != 0 else min(1, len(project.classes) - 1)
        window.classes_changed(select=select if select is not None else window.tools.current_class)
        return True
