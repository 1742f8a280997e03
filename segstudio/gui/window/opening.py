"""Opening a folder in the window: the questions (which folder, which save folder, which class
file), the recent folders, the demo project, dropped folders and files, and which image comes first.

The session (``ProjectSession.open_project``) owns the opening itself (the lock, the read-only
reason, the class list); this part asks the user, tells what opening said (warnings, unsaved work
left from last time) and, once a class list that differs from the masks' is resolved, asks the
session for the first image. Parts that rewrite the project's files (imports, clean-ups) call
:meth:`Opening.reopen` to read it again on the same image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QMenu, QWidget

from segstudio.application.session.controller import ProjectSession
from segstudio.core.errors import SaveError, SegStudioError
from segstudio.core.images import is_image_file
from segstudio.gui.canvas.canvas_tools import ToolController
from segstudio.gui.docks.file_dock import FileDock
from segstudio.gui.window import demo, dialogs
from segstudio.gui.window.class_ops import ClassEditor
from segstudio.gui.window.image_view import ImageView
from segstudio.gui.window.settings import Settings


@dataclass(frozen=True)
class OpeningParts:
    """What opening a folder updates."""

    tools: ToolController
    file_dock: FileDock
    class_editor: ClassEditor
    view: ImageView
    recent_menu: QMenu
    classes_changed: Callable[..., None]  # the class dock and overlay colours follow the new list
    show_image: Callable[[int], bool]
    show_status: Callable[[str, int], None]
    on_change: Callable[[], None]  # the title follows


class Opening:
    """The window's open flow (see the module docstring)."""

    def __init__(self, session: ProjectSession, settings: Settings, parts: OpeningParts, parent: QWidget) -> None:
        self.session, self.settings, self.p, self._parent = session, settings, parts, parent
        self.rebuild_recent_menu()

    def open(self, image_dir, class_file=None, save_dir=None, select: str | None = None) -> bool:
        """Open a folder; ``select`` names the image to show first (default: the first)."""
        p = self.p
        p.tools.cancel()
        try:
            project = self.session.open_project(image_dir, class_file=class_file, save_dir=save_dir)
        except SegStudioError as exc:
            dialogs.error(self._parent, "Cannot open folder", str(exc))
            return False
        p.file_dock.set_project(project)
        p.classes_changed(select=1 if len(project.classes) > 1 else 0)
        folder = str(project.image_dir)
        self.settings.add_recent_folder(folder)
        seed = "" if project.class_path.is_file() else str(class_file or "")  # classes.txt rules now
        self.settings.set_last_project(folder, seed, str(save_dir or ""))
        self.rebuild_recent_menu()
        warnings = self.session.open_warnings + project.class_warnings + project.listing_warnings
        if warnings:
            p.show_status("; ".join(warnings), 15000)
        if not project.entries:
            p.view.clear(f"No images in {folder}")
            p.on_change()
        # A class list that differs from the masks' is resolved first (a remap rewrites every mask
        # before the first image is read); then the first image is shown.
        p.class_editor.resolve_conflict(then=lambda: self._show_first(project, select))
        return True

    def reopen(self) -> None:
        """Read the project again (its files changed: an import, a clean-up) on the same image."""
        project, current = self.session.project, self.session.current
        if project is None:
            return
        name = Path(current.entry.image_path).name if current is not None else None
        self.open(project.image_dir, project.class_file, project.save_dir, select=name)

    def _show_first(self, project, select: str | None) -> None:
        if project is not self.session.project or not project.entries:
            return
        index = 0
        if select:
            names = [e.image_path.name for e in project.entries]
            index = names.index(Path(select).name) if Path(select).name in names else 0
        self.p.show_image(self._first_with_unsaved_work(index))

    def _first_with_unsaved_work(self, index: int) -> int:
        """At opening, tell about unsaved work on any image (recovery copies), not only ``index``'s."""
        waiting = self.session.recovery_waiting()
        project = self.session.project
        if not waiting or index in waiting or project is None:
            return index
        names = ", ".join(project.entries[i].image_path.name for i in waiting[:5])
        more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
        go = dialogs.confirm(self._parent, "Unsaved work from last time",
                             f"{len(waiting)} image(s) have edits that were not saved when segstudio last "
                             f"stopped: {names}{more}.\nGo to the first one now? Each is offered when you open it.")
        return waiting[0] if go else index

    def open_startup(self, image_dir=None, class_file=None, save_dir=None) -> bool:
        """labelImg's arguments; with none, the last folder, else the demo project."""
        if image_dir:
            return self.open(image_dir, class_file or None, save_dir or None)
        last_dir, last_classes, last_save = self.settings.last_project()
        if last_dir and Path(last_dir).is_dir():
            select = self.settings.get_str("project/last_image")
            return self.open(last_dir, last_classes or None, last_save or None, select=select)
        return self.open_demo()

    def open_demo(self) -> bool:
        try:
            folder = demo.ensure_demo_copy()
        except SaveError as exc:  # no home folder, a read-only disk: the window opens empty
            self.p.show_status(str(exc), 10000)
            return False
        if folder is None:
            self.p.show_status("The demo project is not part of this installation", 10000)
            return False
        return self.open(folder)

    def ask_folder(self) -> None:
        start = str(self.session.project.image_dir) if self.session.project else ""
        folder = dialogs.ask_folder(self._parent, "Open image folder", start)
        if folder:
            self.open(folder)

    def ask_save_dir(self) -> None:
        project = self.session.project
        if project is None:
            return
        folder = dialogs.ask_folder(self._parent, "Save masks to", str(project.save_dir))
        if not folder:
            return
        self.p.tools.cancel()
        try:
            project = self.session.set_save_dir(folder)
        except SegStudioError as exc:
            dialogs.error(self._parent, "Cannot change save folder", str(exc))
            return
        self.p.file_dock.set_project(project)
        self.p.file_dock.set_current(self.session.index)
        self.p.classes_changed()
        self.p.class_editor.resolve_conflict()
        self.settings.set_last_project(str(project.image_dir), "", folder)

    def ask_class_file(self) -> None:
        project = self.session.project
        path = dialogs.ask_class_file(self._parent, str(project.save_dir) if project else "")
        if not path:
            return
        if project is None:
            dialogs.info(self._parent, "Class file", "Open an image folder first (Ctrl+U).")
            return
        current = self.session.entry
        # A list that differs from the project's is offered as a remap (see ClassEditor.resolve_conflict).
        self.open(project.image_dir, path, project.save_dir,
                  select=current.image_path.name if current is not None else None)

    def rebuild_recent_menu(self) -> None:
        menu = self.p.recent_menu
        menu.clear()
        for folder in self.settings.recent_folders():
            menu.addAction(folder, lambda f=folder: self.open(f))
        menu.setEnabled(not menu.isEmpty())

    def drop(self, path: Path) -> None:
        """A folder (or an image in one) dropped on the window."""
        if path.is_dir():
            self.open(path)
        else:
            self.open(path.parent, select=path.name)


def dropped_path(urls: list) -> Path | None:
    """The first local folder or image among dropped ``urls`` (QUrl), or None."""
    for url in urls:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.is_dir() or (path.is_file() and is_image_file(path)):
                return path
    return None
