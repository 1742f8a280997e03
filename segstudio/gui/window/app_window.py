"""The main window: assembles the canvas, docks, actions and session, and wires them together.

It owns no logic of its own beyond glue: tools live in canvas_tools, files in session, class edits
in class_ops. Later features add docks and actions through :meth:`MainWindow.add_dock`,
:meth:`Actions.add`/`Actions.menu` and extra canvas layers (``canvas.add_layer``), installed from
the modules listed in ``PLUGINS`` (each exposes ``install(window)``).
"""

from __future__ import annotations

import importlib
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

from segstudio.application.live.scribbles import unpainted_value
from segstudio.application.session import navigation
from segstudio.application.session.controller import ProjectSession
from segstudio.application.window_title import window_title
from segstudio.core import overlay
from segstudio.core.errors import SegStudioError
from segstudio.core.images import is_image_file
from segstudio.core.masks import label_counts
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.canvas.canvas import Canvas
from segstudio.gui.canvas.canvas_tools import Tool, ToolController
from segstudio.gui.canvas.mask_layer import MaskLayer
from segstudio.gui.docks.class_dock import ClassDock
from segstudio.gui.docks.file_dock import FileDock
from segstudio.gui.docks.tool_dock import ToolDock
from segstudio.gui.window import demo, dialogs, mask_repair_flow, window_state
from segstudio.gui.window.actions import TOOL_ACTIONS, Actions, Spec
from segstudio.gui.window.class_keys import ClassKeys
from segstudio.gui.window.class_ops import ClassEditor
from segstudio.gui.window.closing import CloseSequence
from segstudio.gui.window.settings import Settings
from segstudio.gui.workers.background import BackgroundPools, qt_timer
from segstudio.gui.workers.image_loader import display_images

PLUGINS: tuple[str, ...] = (  # modules with install(window)
    "segstudio.gui.window.model_features",
    "segstudio.gui.window.live_features",
    "segstudio.gui.window.assist_features",  # after the model's layers: its proposal is drawn on top
    "segstudio.gui.window.dataset_menus",
)
COUNT_DELAY_MS = 250
SYNC_COUNT_PIXELS = 2_000_000  # bigger maps are counted on a worker thread (~60 ms at 48 Mpixel)


class MainWindow(QMainWindow):
    """segstudio's labelling window.

    It owns every background pool of the window (``pools``): they are shut down once, after a close
    is confirmed. Plugins take part in closing through ``closing`` (gui.window.closing): a guard
    asks before anything stops, a hook stops their work once the close is certain.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("segstudio")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else Settings()
        self.pools = BackgroundPools(self)
        self.closing = CloseSequence(self.pools)
        self.session = ProjectSession(self.pools, qt_timer(self), decorate=display_images)
        self.session.ask_restore = lambda path: dialogs.ask_restore(self, path.name)
        self.session.ask_unsaved = lambda: dialogs.ask_unsaved(self, self._image_name())
        self.tools = ToolController(self)
        self.canvas = Canvas(self)
        self.canvas.tool = self.tools
        self.setCentralWidget(self.canvas)
        self.mask_layer = MaskLayer(self.pools.pool("colour"), "mask", opacity=0.5)
        self.canvas.add_layer(self.mask_layer)
        self.actions = Actions(self)
        self.actions.build_menus()
        repair = self.actions.add(Spec("repair_mask", "&Repair mask…", tip="Repair a mask that did not load"))
        self.actions.menus["File"].insertAction(self.actions["save"], repair)  # with the file actions, before Quit
        repair.setEnabled(False)
        self.addToolBar(self.actions.build_toolbar())
        self.file_dock = FileDock(self)
        self.class_dock = ClassDock(self)
        self.tool_dock = ToolDock([self.actions[name] for name in TOOL_ACTIONS], self)
        for dock in (self.class_dock, self.tool_dock, self.file_dock):
            self.add_dock(dock)
        self.class_editor = ClassEditor(self)
        self._document = None
        self._shown = None  # the LoadedImage on screen: keeps its pixels alive while the next one loads
        self._save_error_shown = False
        self._count_timer = QTimer(self, singleShot=True, interval=COUNT_DELAY_MS)
        self._count_timer.timeout.connect(self.update_counts)
        self._count_pool = self.pools.pool("count")
        self.class_keys = ClassKeys()
        self._cursor: tuple[int, int] | None = None  # image pixel under the mouse, for the status bar
        self._build_status_bar()
        self._connect_actions()
        self._connect_signals()
        window_state.restore(self)
        self._on_tool_settings()
        self._rebuild_recent_menu()
        for plugin in PLUGINS:
            importlib.import_module(plugin).install(self)

    # --- assembly --------------------------------------------------------------------------------
    def add_dock(self, dock: QDockWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> None:
        """Add a dock (with an objectName, for saved layouts) and its toggle in View > Panels."""
        self.addDockWidget(area, dock)
        self.actions.panels_menu.addAction(dock.toggleViewAction())

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_labels = {}
        for key, width in (("class", 150), ("pos", 110), ("zoom", 70), ("size", 100), ("save", 120)):
            label = QLabel()
            label.setMinimumWidth(width)
            bar.addPermanentWidget(label)
            self.status_labels[key] = label

    def _connect_actions(self) -> None:
        a, canvas = self.actions, self.canvas
        handlers = {
            "open_folder": self.ask_open_folder,
            "change_save_dir": self.ask_save_dir,
            "open_class_file": self.ask_class_file,
            "open_demo": self.open_demo,
            "save": self.save,
            "repair_mask": self.offer_mask_repair,
            "quit": self.close,
            "undo": self.undo,
            "redo": self.redo,
            "fill_unlabelled": self.tools.fill_unlabelled,
            "add_class": self.class_editor.add,
            "prev_image": lambda: self.go(-1),
            "next_image": lambda: self.go(+1),
            "verify": self.toggle_verified,
            "zoom_in": canvas.zoom_in,
            "zoom_out": canvas.zoom_out,
            "zoom_original": canvas.zoom_original,
            "fit_window": canvas.fit_window,
            "fit_width": canvas.fit_width,
            "brush_smaller": lambda: self.tools.grow_brush(1 / 1.2),
            "brush_larger": lambda: self.tools.grow_brush(1.2),
            "shortcuts": lambda: dialogs.show_shortcuts(self, self.actions.all()),
            "about": lambda: dialogs.about(self),
        }
        for name, handler in handlers.items():
            a[name].triggered.connect(lambda checked=False, h=handler: h())
        for name, tool in TOOL_ACTIONS.items():
            a[name].triggered.connect(lambda checked=False, t=tool: self.tools.set_tool(t))
        for i in range(10):
            a[f"class_{i}"].triggered.connect(lambda checked=False, i=i: self._class_key(i))
        a["autosave"].toggled.connect(self._set_autosave)
        a["show_mask"].setChecked(True)
        a["show_mask"].toggled.connect(self._show_mask)

    def _connect_signals(self) -> None:
        s, t, c = self.session, self.tools, self.canvas
        s.loading_started.connect(self._on_loading_started)
        s.image_loaded.connect(self._on_image_loaded)
        s.mask_restored.connect(self.update_counts)
        s.dirty_changed.connect(lambda dirty: self.update_title())
        s.save_state.connect(self._on_save_state)
        s.save_failed.connect(self._on_save_failed)
        s.entry_changed.connect(lambda index: self.file_dock.update_entry(s.project, index))
        s.load_failed.connect(self._on_load_failed)
        t.edit_finished.connect(self._on_edit_finished)
        t.edit_refused.connect(self._edit_refused)
        t.class_picked.connect(self.select_class)
        t.preview_changed.connect(c.viewport().update)
        t.settings_changed.connect(self._on_tool_settings)
        c.zoom_changed.connect(lambda scale: self.status_labels["zoom"].setText(f"{scale * 100:.0f} %"))
        c.cursor_moved.connect(self._on_cursor)
        c.space_tapped.connect(self.actions["verify"].trigger)
        self.file_dock.image_activated.connect(self.show_image)
        d = self.class_dock
        d.class_selected.connect(self.select_class)
        d.visibility_changed.connect(lambda visible: self.update_lut())
        d.add_requested.connect(self.class_editor.add)
        d.rename_requested.connect(self.class_editor.rename)
        d.recolour_requested.connect(self.class_editor.recolour)
        d.delete_requested.connect(self.class_editor.delete)
        d.move_requested.connect(self.class_editor.move)
        self.tool_dock.brush_size_changed.connect(t.set_brush_size)
        self.tool_dock.opacity_changed.connect(self.set_opacity)
        self.tool_dock.tolerance_changed.connect(lambda v: setattr(t, "fill_tolerance", int(v)))

    # --- settings --------------------------------------------------------------------------------
    def save_settings(self) -> None:
        window_state.save(self)

    def _rebuild_recent_menu(self) -> None:
        menu = self.actions.recent_menu
        menu.clear()
        for folder in self.settings.recent_folders():
            menu.addAction(folder, lambda f=folder: self.open_project(f))
        menu.setEnabled(not menu.isEmpty())

    # --- opening ---------------------------------------------------------------------------------
    def open_project(self, image_dir, class_file=None, save_dir=None, select: str | None = None) -> bool:
        """Open a folder; ``select`` names the image to show first (default: the first)."""
        self.tools.cancel()
        try:
            project = self.session.open_project(image_dir, class_file=class_file, save_dir=save_dir)
        except SegStudioError as exc:
            dialogs.error(self, "Cannot open folder", str(exc))
            return False
        self.file_dock.set_project(project)
        self.classes_changed(select=1 if len(project.classes) > 1 else 0)
        folder = str(project.image_dir)
        self.settings.add_recent_folder(folder)
        seed = "" if project.class_path.is_file() else str(class_file or "")  # classes.txt rules now
        self.settings.set_last_project(folder, seed, str(save_dir or ""))
        self._rebuild_recent_menu()
        warnings = self.session.open_warnings + project.class_warnings + getattr(project, "listing_warnings", [])
        if warnings:
            self.statusBar().showMessage("; ".join(warnings), 15000)
        if not project.entries:
            self.canvas.set_image(None)
            self.mask_layer.clear()
            self.canvas.placeholder = f"No images in {folder}"
            self.update_title()
        # A class list that differs from the masks' is resolved first (a remap rewrites every mask
        # before the first image is read); then the first image is shown.
        self.class_editor.resolve_conflict(then=lambda: self._show_first(project, select))
        return True

    def _show_first(self, project, select: str | None) -> None:
        if project is not self.session.project or not project.entries:
            return
        index = 0
        if select:
            names = [e.image_path.name for e in project.entries]
            index = names.index(Path(select).name) if Path(select).name in names else 0
        self.show_image(self._first_with_unsaved_work(index))

    def _first_with_unsaved_work(self, index: int) -> int:
        """At opening, tell about unsaved work on any image (recovery copies), not only ``index``'s."""
        waiting = self.session.recovery_waiting()
        if not waiting or index in waiting:
            return index
        names = ", ".join(self.session.project.entries[i].image_path.name for i in waiting[:5])
        more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
        go = dialogs.confirm(self, "Unsaved work from last time",
                             f"{len(waiting)} image(s) have edits that were not saved when segstudio last "
                             f"stopped: {names}{more}.\nGo to the first one now? Each is offered when you open it.")
        return waiting[0] if go else index

    def open_startup(self, image_dir=None, class_file=None, save_dir=None) -> bool:
        """labelImg's arguments; with none, the last folder, else the demo project."""
        if image_dir:
            return self.open_project(image_dir, class_file or None, save_dir or None)
        last_dir, last_classes, last_save = self.settings.last_project()
        if last_dir and Path(last_dir).is_dir():
            select = self.settings.get_str("project/last_image")
            return self.open_project(last_dir, last_classes or None, last_save or None, select=select)
        return self.open_demo()

    def open_demo(self) -> bool:
        folder = demo.ensure_demo_copy()
        if folder is None:
            self.statusBar().showMessage("The demo project is not part of this installation", 10000)
            return False
        return self.open_project(folder)

    def ask_open_folder(self) -> None:
        start = str(self.session.project.image_dir) if self.session.project else ""
        folder = dialogs.ask_folder(self, "Open image folder", start)
        if folder:
            self.open_project(folder)

    def ask_save_dir(self) -> None:
        if self.session.project is None:
            return
        folder = dialogs.ask_folder(self, "Save masks to", str(self.session.project.save_dir))
        if folder:
            self.tools.cancel()
            try:
                project = self.session.set_save_dir(folder)
            except SegStudioError as exc:
                dialogs.error(self, "Cannot change save folder", str(exc))
                return
            self.file_dock.set_project(project)
            self.file_dock.set_current(self.session.index)
            self.classes_changed()
            self.class_editor.resolve_conflict()
            image_dir = str(project.image_dir)
            self.settings.set_last_project(image_dir, "", folder)

    def ask_class_file(self) -> None:
        project = self.session.project
        path = dialogs.ask_class_file(self, str(project.save_dir) if project else "")
        if not path:
            return
        if project is None:
            dialogs.info(self, "Class file", "Open an image folder first (Ctrl+U).")
            return
        # A list that differs from the project's is offered as a remap (see resolve_conflict).
        self.open_project(project.image_dir, path, project.save_dir, select=self._image_name())

    # --- navigation ------------------------------------------------------------------------------
    def show_image(self, index: int) -> bool:
        """Ask for image ``index``; it appears when loaded (at once when prefetched), never blocking."""
        self.tools.cancel()
        return self.session.load_index(index)

    def go(self, step: int) -> bool:
        """Previous / next image in the file list as displayed (filtered, maybe sorted)."""
        index = navigation.step(self.file_dock.displayed_indices(), self.session.index, step)
        return index is not None and self.show_image(index)

    def _on_loading_started(self, index: int) -> None:
        """The next image is on its way: no document, no painting, its name and a "loading" state."""
        self._detach_document()
        self.tools.set_document(None)
        self.set_editing_enabled(False)
        name = self.session.project.entries[index].image_path.name
        self.canvas.set_loading(f"Loading {name}…")
        self.file_dock.set_current(index)
        self.status_labels["size"].setText("loading…")
        self.status_labels["class"].setText("")
        self.class_dock.set_counts(None)
        self.update_title()

    def _on_load_failed(self, message: str) -> None:
        if self.session.current is None:  # nothing to go back to
            self.canvas.set_loading(None)
            self.canvas.set_image(None)
            self.mask_layer.clear()
            self._shown = None
            self.update_title()
        dialogs.error(self, "Cannot open image", message)

    def _detach_document(self) -> None:
        if self._document is not None:
            self._document.remove_listener(self.mask_layer.update_rect)
        self._document = None

    def set_editing_enabled(self, enabled: bool) -> None:
        for name in ("undo", "redo", "fill_unlabelled", "save", "verify"):
            self.actions[name].setEnabled(enabled)

    def _on_image_loaded(self, loaded) -> None:
        document = self.session.document
        self._detach_document()
        self._document = document
        document.add_listener(self.mask_layer.update_rect)
        editable = document.locked is None  # a read-only project: shown, never edited
        self.tools.set_document(document)  # a gesture on a locked document says why it does nothing
        self.set_editing_enabled(editable)
        self.canvas.set_loading(None)
        self._shown = loaded
        ready = loaded.overlay if loaded.overlay_lut is self.mask_layer.native_lut else None
        self.mask_layer.set_label(document.label, prepared=ready)
        loaded.overlay = None  # now owned by the layer
        self.canvas.set_image(loaded.display.qimage, loaded.display.pyramid)
        self.file_dock.set_current(loaded.index)
        width, height = loaded.size
        self.status_labels["size"].setText(f"{width} × {height}")
        self.update_title()
        self.actions["repair_mask"].setEnabled(False)
        if not editable:
            self._edit_refused(document.locked)
        elif loaded.mask_problem is not None:
            self.offer_mask_repair()
        if loaded.counts is not None:
            self.class_dock.set_counts(loaded.counts)
        else:
            self.update_counts()

    def _edit_refused(self, reason: str) -> None:
        self.statusBar().showMessage(f"The project is {reason}: painting is off in this window", 8000)

    def offer_mask_repair(self) -> bool:
        """The open image's mask did not load: ask for a repair (see mask_repair_flow)."""
        return mask_repair_flow.offer_repair(self)

    # --- editing ---------------------------------------------------------------------------------
    def undo(self) -> None:
        self.tools.cancel()
        if self.session.document is not None and self.session.document.undo() is not None:
            self._on_edit_finished()

    def redo(self) -> None:
        self.tools.cancel()
        if self.session.document is not None and self.session.document.redo() is not None:
            self._on_edit_finished()

    def _on_edit_finished(self) -> None:
        self.session.edit_finished()
        self._count_timer.start()
        self._on_cursor(self._cursor)  # the label under a still cursor may have just changed

    def _class_key(self, digit: int) -> None:
        """A number key: digits typed quickly form one number (12 = class 12)."""
        project = self.session.project
        value = self.class_keys.press(digit, len(project.classes) if project is not None else 0)
        if value is not None:
            self.select_class(value)

    def select_class(self, value: int) -> None:
        project = self.session.project
        if project is None or not (0 <= value < len(project.classes) or value == IGNORE_INDEX):
            return
        self.tools.current_class = int(value)
        if value == IGNORE_INDEX:
            self.actions["tool_ignore"].trigger()
        elif self.tools.tool in (Tool.ERASER, Tool.IGNORE):
            self.actions["tool_brush"].trigger()
        self.class_dock.set_current(value)
        self.statusBar().showMessage(f"Class {value}: {project.classes.name_of(value)}", 3000)

    def classes_changed(self, select: int | None = None) -> None:
        """Class list edited (or a project opened): rebuild the dock and the overlay colours."""
        project = self.session.project
        if project is None:
            return
        current = select if select is not None else self.tools.current_class
        if not (0 <= current < len(project.classes) or current == IGNORE_INDEX):
            current = min(1, len(project.classes) - 1)
        self.tools.current_class = current
        self.class_dock.set_classes(project.classes, current)
        self.update_lut()
        self.update_counts()

    def update_lut(self) -> None:
        project = self.session.project
        if project is None:
            return
        lut = overlay.colour_lut(project.classes.colour_table()[: len(project.classes)], self.class_dock.visible, 1.0)
        if not self.class_dock.visible[IGNORE_INDEX] or unpainted_value(project) == IGNORE_INDEX:
            lut[IGNORE_INDEX, 3] = 0  # hidden, or a scribble project's unpainted pixels: show the photo
        self.mask_layer.set_lut(lut)
        self.session.overlay_lut = self.mask_layer.native_lut

    def update_counts(self) -> None:
        """Pixels per class of the open image; big maps are counted off the GUI thread."""
        document = self.session.document
        if document is None or document.label.size <= SYNC_COUNT_PIXELS:
            self.class_dock.set_counts(None if document is None else label_counts(document.label))
            return
        self._count_pool.submit(label_counts, document.label, on_done=lambda f: self._on_counts(document, f))

    def _on_counts(self, document, future: Future) -> None:
        if document is self.session.document and not future.cancelled() and future.exception() is None:
            self.class_dock.set_counts(future.result())  # an edit meanwhile restarts the count timer

    def set_opacity(self, opacity: float) -> None:
        self.mask_layer.opacity = max(0.0, min(1.0, float(opacity)))
        self.canvas.viewport().update()

    def _show_mask(self, shown: bool) -> None:
        self.mask_layer.visible = shown
        self.canvas.viewport().update()

    def _on_tool_settings(self) -> None:
        tool = self.tools.tool
        for name, kind in TOOL_ACTIONS.items():
            if kind == tool:
                self.actions[name].setChecked(True)
        self.tool_dock.set_brush_size(self.tools.brush_size)
        self.canvas.viewport().update()

    # --- saving ----------------------------------------------------------------------------------
    def save(self) -> None:
        self.tools.cancel()
        if self.session.document is not None:
            self.session.save_async()

    def toggle_verified(self) -> None:
        self.tools.cancel()
        self.session.toggle_verified()
        self.update_title()

    def _set_autosave(self, on: bool) -> None:
        self.session.autosave = bool(on)
        self.settings.set("file/autosave", bool(on))

    def _on_save_state(self, state: str) -> None:
        self.status_labels["save"].setText(state)
        if state == "saved" and not self.session.has_unsaved_snapshots():
            self._save_error_shown = False  # the next failure is news again

    def _on_save_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Save failed: {message}", 20000)
        if not self._save_error_shown:
            self._save_error_shown = True
            dialogs.error(self, "Save failed", f"{message}\n\nYour edits are kept in memory; "
                          "choose another save folder (Ctrl+R) or free some space, then save again (Ctrl+S).")

    # --- status ----------------------------------------------------------------------------------
    def _image_name(self) -> str:
        entry = self.session.entry
        return entry.image_path.name if entry is not None else ""

    def update_title(self) -> None:
        session = self.session
        entry = session.entry or (session.target_entry if session.loading else None)
        count = len(session.project.entries) if session.project is not None else 0
        self.setWindowTitle(window_title(
            entry.image_path.name if entry is not None else "", session.index + 1, count,
            loading=session.current is None, dirty=session.dirty, verified=session.verified,
            mask_blocked=session.mask_blocked, read_only=bool(session.read_only)))

    def _on_cursor(self, point) -> None:
        self._cursor = point
        document = self.session.document
        if point is None or document is None:
            self.status_labels["pos"].setText("")
            self.status_labels["class"].setText("")
            return
        x, y = point
        height, width = document.label.shape
        if not (0 <= x < width and 0 <= y < height):  # a point left over from another image
            self._on_cursor(None)
            return
        self.status_labels["pos"].setText(f"x {x}, y {y}")
        value = int(document.label[y, x])
        self.status_labels["class"].setText(f"{value}: {self.session.project.classes.name_of(value)}")

    # --- closing ---------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802
        """Ask every question first (plugins, unsaved edits); only a confirmed close stops anything,
        so a cancelled one leaves a window whose pools all still work. Writes still on their way
        are not waited for here: the window stays open ("closing") and closes again once the
        session says they have all answered."""
        self.tools.cancel()
        if self.closing.done:
            event.accept()
            return
        if not self._may_close():
            event.ignore()
            return
        if not self.session.idle:
            event.ignore()
            self.closing.confirmed = True  # asked once: the second close only checks the writes
            self.statusBar().showMessage("Closing: writing the last changes…")
            self.session.flush(lambda: QTimer.singleShot(0, self, self.close))  # not once the window is gone
            return
        if self.session.has_unsaved_snapshots() and not dialogs.confirm(
                self, "Unsaved changes", "Some edits could not be saved. Quit anyway and lose them?"):
            self.closing.confirmed = False
            event.ignore()
            return
        if not self.closing.stop(then=lambda: QTimer.singleShot(0, self, self.close)):  # runs end first
            event.ignore()
            return
        self.closing.finish(last=self._let_go)
        event.accept()

    def _let_go(self) -> None:
        self.save_settings()
        self.session.shutdown()

    def _may_close(self) -> bool:
        if self.closing.confirmed:  # asked already: this close only follows the last writes
            return True
        return self.closing.may_close() and self.session.leave_current()

    # --- window events ---------------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = self._dropped_path(event)
        if path is None:
            return
        event.acceptProposedAction()
        if path.is_dir():
            self.open_project(path)
        else:
            self.open_project(path.parent, select=path.name)

    @staticmethod
    def _dropped_path(event) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        for url in urls:
            if url.isLocalFile():
                path = Path(url.toLocalFile())
                if path.is_dir() or (path.is_file() and is_image_file(path)):
                    return path
        return None
