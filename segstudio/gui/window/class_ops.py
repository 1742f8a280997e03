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

from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import QWidget

from segstudio.application.class_rewrite import IDENTITY, is_identity
from segstudio.application.session.controller import ProjectSession
from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.canvas.canvas_tools import ToolController
from segstudio.gui.window import dialogs
from segstudio.gui.workers.remap_worker import RewriteProgress


class ClassEditor:
    """Performs the class dock's requests on the session's project; ``classes_changed(select=...)``
    lets the window's class dock and overlay colours follow, ``show_status(text, ms)`` says
    something in passing, ``parent`` owns the dialogs."""

    def __init__(self, session: ProjectSession, tools: ToolController, classes_changed: Callable[..., None],
                 show_status: Callable[[str, int], None], parent: QWidget) -> None:
        self.session, self.tools, self._parent = session, tools, parent
        self.classes_changed, self.show_status = classes_changed, show_status
        self.rewriting = False  # a project-wide rewrite is running (the GUI stays live meanwhile)

    @property
    def project(self):
        return self.session.project

    def _editable(self):
        """The open project, or None when there is none or it is read-only (changed as a whole elsewhere:
        every class edit writes files, so it is refused, with a message). Also None while a rewrite
        runs: a second edit would change the class list under the first one's files."""
        session = self.session
        if self.rewriting:
            self.show_status("The masks are being rewritten: change the classes "
                                                "again when it is done", 5000)
            return None
        if session.project is not None and session.read_only:
            message = f"The project is {session.read_only}; classes cannot be changed here."
            dialogs.error(self._parent, "Classes", message)
            return None
        busy = session.others_editing() if session.project is not None else None
        if busy:  # every class edit changes every mask's meaning: not while others edit (core.exclusive)
            dialogs.error(self._parent, "Classes", f"Classes cannot be changed now: {busy}.")
            return None
        return session.project

    def add(self) -> int | None:
        if self._editable() is None:
            return None
        name = dialogs.ask_text(self._parent, "Add class", "Name of the new class:")
        if not name:
            return None
        try:  # a project-wide change: refused while another window edits an image (core.exclusive)
            with self.session.project_wide("add a class"):
                index = self.project.classes.add(name)
                self.project.save_classes()
        except SegStudioError as exc:
            dialogs.error(self._parent, "Add class", str(exc))
            return None
        self.classes_changed(select=index)
        return index

    def rename(self, index: int) -> bool:
        if self._editable() is None or not 0 <= index < len(self.project.classes):
            return False
        new = self.project.classes.copy()
        old_name = new.names[index]
        name = dialogs.ask_text(self._parent, "Rename class", f"New name for class {index}:", old_name)
        if not name or name == old_name:
            return False
        try:
            new.rename(index, name)
        except SegStudioError as exc:
            dialogs.error(self._parent, "Rename class", str(exc))
            return False
        # Indices are unchanged: masks keep their pixels; only the XML object names are rewritten.
        return self._rewrite(new, IDENTITY, f"Renaming {old_name!r} to {name!r}…", select=index)

    def recolour(self, index: int) -> bool:
        if self._editable() is None or not 0 <= index < len(self.project.classes):
            return False
        classes = self.project.classes
        colour = dialogs.ask_colour(self._parent, classes.colours[index], f"Colour of {classes.names[index]}")
        if colour is None:
            return False
        classes.colours[index] = tuple(int(v) for v in colour)
        self._save_colours()
        self.classes_changed(select=index)
        return True

    def delete(self, index: int) -> bool:
        project = self._editable()
        if project is None or index in (0, IGNORE_INDEX) or index >= len(project.classes):
            return False
        name = project.classes.names[index]
        count = len(project.labelled_entries())
        if not dialogs.confirm(
            self._parent,
            "Delete class",
            f"Delete class {index} {name!r}?\n\nIts pixels become background and the classes after it "
            f"move down one index in every mask ({count} mask files are rewritten).",
        ):
            return False
        new = project.classes.copy()
        lut = new.delete(index)
        return self._rewrite(new, lut, f"Deleting class {name!r}…")

    def move(self, index: int, delta: int) -> bool:
        project = self._editable()
        if project is None:
            return False
        target = index + delta
        if index in (0, IGNORE_INDEX) or not 1 <= target < len(project.classes):
            return False
        names = project.classes.names
        if not dialogs.confirm(
            self._parent,
            "Reorder classes",
            f"Swap classes {index} {names[index]!r} and {target} {names[target]!r}?\n\n"
            f"Every mask ({len(project.labelled_entries())} files) is renumbered.",
        ):
            return False
        new = project.classes.copy()
        order = list(range(len(names)))
        order[index], order[target] = order[target], order[index]
        lut = new.reorder(order)
        return self._rewrite(new, lut, "Reordering classes…", select=target)

    def resolve_conflict(self, then: Callable[[], None] = lambda: None) -> bool:
        """classes.txt (or the command-line class file) differs from the list the masks were
        written with: remap the masks by name, or keep the recorded list (rewriting classes.txt).
        Declining keeps the recorded list for this session (asked again at the next open).
        ``then()`` runs once resolved (after the remap's rewrite, whatever its outcome)."""
        project = self.project
        conflict = project.class_conflict if project is not None else None
        if conflict is None or self.rewriting:  # (during a rewrite: asked again at the next open)
            then()
            return conflict is None
        choice = dialogs.ask_class_mismatch(self._parent, conflict.message)
        if choice == "remap":
            project.class_conflict = None  # given back if the rewrite fails
            return self._rewrite(conflict.proposed.copy(), conflict.remap_lut(),
                                 "Remapping the masks to the new class list…", conflict=conflict, then=then)
        resolved = choice == "recorded" and self._keep_recorded(project)
        if choice != "recorded":
            self.show_status(f"{conflict.message}; using the recorded list for now", 20000)
        then()
        return resolved

    def _keep_recorded(self, project) -> bool:
        """Keep the class list the masks were written with: classes.txt is rewritten to it."""
        try:
            project.use_recorded_classes()
        except (SegStudioError, OSError) as exc:
            dialogs.error(self._parent, "Classes", f"classes.txt not rewritten: {exc}")
            return False
        self.classes_changed()
        return True

    def _save_colours(self) -> None:
        try:
            self.project.save_class_colours()
        except SegStudioError as exc:
            self.show_status(f"Class colours not saved: {exc}", 10000)

    def _rewrite(self, classes, lut: np.ndarray, title: str, select: int | None = None, conflict=None,
                 then: Callable[[], None] = lambda: None) -> bool:
        """Start making ``classes`` the project's list, its files rewritten through ``lut`` (the
        session writes the queued saves first, then rewrites, then renumbers the open image); True
        once started. On failure nothing on disk or in memory changes."""
        session, project = self.session, self.project
        self.tools.cancel()
        self.rewriting = True
        progress = RewriteProgress(self._parent, title, len(project.labelled_entries()))
        def answered(message: str | None) -> None:
            self._rewritten(message, lut, select, progress, conflict)
            then()

        session.rewrite_classes(classes, lut, answered, progress.progress, progress.should_stop)
        return True

    def _rewritten(self, message: str | None, lut: np.ndarray, select: int | None,
                   progress: RewriteProgress, conflict=None) -> None:
        """The rewrite answered (application.class_rewrite.outcome)."""
        session, project = self.session, self.project
        progress.close()
        self.rewriting = False
        if project is None:
            return
        if message is not None:
            project.class_conflict = conflict or project.class_conflict
            if message:
                dialogs.error(self._parent, "Classes", f"The files were not changed: {message}")
            self.classes_changed()
            return
        if project.settings.get("class_colours") or project.classes.colour_map():
            self._save_colours()  # colours are kept by name: a rename moves them along
        if session.dirty:
            session.edit_finished()  # autosave (or a recovery copy) as after any edit
        if not is_identity(lut):
            current = self.tools.current_class
            new_current = int(lut[current]) if current != IGNORE_INDEX else current
            self.tools.current_class = new_current if new_current != 0 else min(1, len(project.classes) - 1)
        self.classes_changed(select=select if select is not None else self.tools.current_class)
