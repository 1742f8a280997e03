"""The main window: builds its parts in one place and wires them to the controllers.

It owns no flow: the session (``application.session``) opens, loads, saves and rewrites; the parts
show it (``image_view``, ``status``), ask the user (``opening``, ``class_ops``, ``mask_repair_flow``)
or add features (model, live training, assisted tools, datasets). Each part is given what it needs
and listens to the session's events; what a part needs from the window is passed to it when it is
built here, never looked up through the window later.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

from segstudio.application.live.scribbles import unpainted_value
from segstudio.application.session import navigation
from segstudio.application.session.controller import ProjectSession
from segstudio.application.session.edit_feed import EditFeed
from segstudio.core import overlay
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.canvas.canvas import Canvas
from segstudio.gui.canvas.canvas_tools import Tool, ToolController
from segstudio.gui.canvas.mask_layer import MaskLayer
from segstudio.gui.docks.class_dock import ClassDock
from segstudio.gui.docks.file_dock import FileDock
from segstudio.gui.docks.tool_dock import ToolDock
from segstudio.gui.window import dialogs, mask_repair_flow, person_name, wheel_guard, window_state
from segstudio.gui.window.actions import TOOL_ACTIONS, Actions, Spec
from segstudio.gui.window.assist_features import AssistFeatures
from segstudio.gui.window.class_keys import ClassKeys
from segstudio.gui.window.class_ops import ClassEditor
from segstudio.gui.window.closing import CloseSequence
from segstudio.gui.window.dataset_menus import DatasetMenus
from segstudio.gui.window.dock_growth import DockGrowth
from segstudio.gui.window.feature_host import FeatureHost
from segstudio.gui.window.image_view import ImageView, Surfaces
from segstudio.gui.window.live_features import LiveFeatures, LiveNeeds
from segstudio.gui.window.model_features import ModelFeatures, ModelNeeds
from segstudio.gui.window.opening import Opening, OpeningParts, dropped_path
from segstudio.gui.window.settings import Settings
from segstudio.gui.window.status import WindowStatus
from segstudio.gui.workers.background import BackgroundPools, qt_timer
from segstudio.gui.workers.image_loader import display_images


class MainWindow(QMainWindow):
    """segstudio's labelling window.

    It owns every background pool of the window (``pools``): they are shut down once, after a close
    is confirmed. Features take part in closing through ``closing`` (gui.window.closing): a guard
    asks before anything stops, a hook stops their work once the close is certain.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        wheel_guard.install()  # the wheel scrolls the docks; it changes a field only when focused
        self.setWindowTitle("segstudio")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else Settings()
        self.pools = BackgroundPools(self)
        self.closing = CloseSequence(self.pools)
        self.session = ProjectSession(self.pools, qt_timer(self), decorate=display_images)
        person_name.apply_saved(self.session, self.settings)
        self.session.ask_restore = lambda path: dialogs.ask_restore(self, path.name)
        self.session.ask_unsaved = lambda: dialogs.ask_unsaved(self, self.session.entry.image_path.name
                                                               if self.session.entry else "")
        self.edits = EditFeed(self.session, qt_timer(self))  # every consumer of the edits listens here
        self._build_parts()
        self.session.reopen = self.opening.reopen  # a class list changed in another window
        self.session.ask_reload_classes = lambda: dialogs.confirm(
            self, "Classes changed", "The class list was changed in another window. Save your strokes and "
            "read the project again now?")
        self._connect_actions()
        self._connect_parts()
        window_state.restore(self)
        self.dock_growth = DockGrowth(self, [self.class_dock, self.tool_dock, self.file_dock], [self.tool_dock])
        self.opening.rebuild_recent_menu()
        # The features, in the order their layers are drawn (the assisted tools' proposal on top).
        self._build_features()

    def _build_features(self) -> None:
        """The model and live parts over their controllers, then the assisted tools and datasets."""
        status = self.status.show

        def beside_files(dock: QDockWidget) -> None:  # tabbed with the file list: the canvas keeps its size
            self.add_dock(dock)
            self.tabifyDockWidget(self.file_dock, dock)

        self.model_features = model = ModelFeatures(ModelNeeds(
            self.session, self.edits, self.pools, self.actions, self.settings, self.closing, self.canvas,
            self.tools, self.file_dock, self.class_dock, beside_files, status))
        self.file_dock.raise_()
        self.live_features = LiveFeatures(LiveNeeds(
            self.session, self.pools, qt_timer(self), self.actions, self.tools, self.closing, model.training,
            model.review, model.active_model, self.update_lut, status, self))
        host = FeatureHost(self.session, self.pools, self.actions, self.tools, self.canvas, self.settings,
                           self.status.show, self.opening.reopen, self)
        self.assist_features = AssistFeatures(host)
        assist = self.assist_features.tools
        self.tool_dock.set_wand_tolerance(assist.wand_tolerance)
        self.tool_dock.wand_tolerance_changed.connect(lambda v: setattr(assist, "wand_tolerance", int(v)))
        self.dataset_menus = DatasetMenus(host, self.assist_features.tools.segment.model_path)

    # --- assembly --------------------------------------------------------------------------------
    def _build_parts(self) -> None:
        """Every part of the window, built here in dependency order."""
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
        self.status = WindowStatus(self.session, self.statusBar(), self.setWindowTitle, self,
                                   self.file_dock.position_of)
        self.file_dock.order_changed.connect(self.status.update_title)
        self.status_labels = self.status.labels
        self.class_editor = ClassEditor(self.session, self.tools, self.classes_changed, self.status.show, self)
        surfaces = Surfaces(self.canvas, self.mask_layer, self.tools, self.file_dock, self.class_dock,
                            self.status.labels, self.actions.__getitem__)
        self.view = ImageView(self.session, self.edits, surfaces, self.pools.pool("count"), self.status.show,
                              self.status.update_title, self.offer_mask_repair, self)
        self.opening = Opening(self.session, self.settings, OpeningParts(
            self.tools, self.file_dock, self.class_editor, self.view, self.actions.recent_menu,
            self.classes_changed, self.show_image, self.status.show, self.status.update_title), self)
        self.class_keys = ClassKeys()

    def _connect_actions(self) -> None:
        a, canvas, tools, opening = self.actions, self.canvas, self.tools, self.opening
        handlers = {
            "open_folder": opening.ask_folder,
            "change_save_dir": opening.ask_save_dir,
            "open_class_file": opening.ask_class_file,
            "open_demo": opening.open_demo,
            "save": self.save,
            "repair_mask": self.offer_mask_repair,
            "quit": self.close,
            "undo": self.undo,
            "redo": self.redo,
            "fill_unlabelled": tools.fill_unlabelled,
            "add_class": self.class_editor.add,
            "your_name": lambda: person_name.ask_person(self, self.session, self.settings, self.status.show),
            "prev_image": lambda: self.go(-1),
            "next_image": lambda: self.go(+1),
            "verify": lambda: (tools.cancel(), self.session.toggle_verified(), self.status.update_title()),
            "zoom_in": canvas.zoom_in,
            "zoom_out": canvas.zoom_out,
            "zoom_original": canvas.zoom_original,
            "fit_window": canvas.fit_window,
            "fit_width": canvas.fit_width,
            "brush_smaller": lambda: tools.grow_brush(1 / 1.2),
            "brush_larger": lambda: tools.grow_brush(1.2),
            "shortcuts": lambda: dialogs.show_shortcuts(self, self.actions.all()),
            "about": lambda: dialogs.about(self),
        }
        for name, handler in handlers.items():
            a[name].triggered.connect(lambda checked=False, h=handler: h())
        for name, tool in TOOL_ACTIONS.items():
            a[name].triggered.connect(lambda checked=False, t=tool: tools.set_tool(t))
        for i in range(10):
            a[f"class_{i}"].triggered.connect(lambda checked=False, i=i: self.select_class(
                self.class_keys.press(i, len(self.session.project.classes) if self.session.project else 0)))
        a["autosave"].toggled.connect(self._set_autosave)
        a["show_mask"].setChecked(True)
        a["show_mask"].toggled.connect(self.view.show_mask)

    def _connect_parts(self) -> None:
        s, t, c = self.session, self.tools, self.canvas
        s.loading_started.connect(lambda index: self.status.update_title())
        s.entry_changed.connect(lambda index: self.file_dock.update_entry(s.project, index))
        s.claims_changed.connect(lambda: self.file_dock.set_claimed(s.claimed_by_others()))
        s.image_loaded.connect(lambda loaded: self.file_dock.set_claimed(s.claimed_by_others()))
        t.class_picked.connect(self.select_class)
        t.preview_changed.connect(c.viewport().update)
        t.settings_changed.connect(self._tool_settings_changed)
        c.zoom_changed.connect(lambda scale: self.status_labels["zoom"].setText(f"{scale * 100:.0f} %"))
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
        self.tool_dock.opacity_changed.connect(self.view.set_opacity)
        self.tool_dock.tolerance_changed.connect(lambda v: setattr(t, "fill_tolerance", int(v)))
        self.tool_dock.editing_done.connect(lambda: c.setFocus(Qt.FocusReason.OtherFocusReason))
        self._tool_settings_changed()

    def _tool_settings_changed(self) -> None:
        for name, kind in TOOL_ACTIONS.items():
            if kind == self.tools.tool:
                self.actions[name].setChecked(True)
        self.tool_dock.set_brush_size(self.tools.brush_size)
        self.canvas.viewport().update()

    def _set_autosave(self, on: bool) -> None:
        self.session.autosave = bool(on)
        self.settings.set("file/autosave", bool(on))

    def add_dock(self, dock: QDockWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> None:
        """Add a dock (with an objectName, for saved layouts) and its toggle in View > Panels."""
        self.addDockWidget(area, dock)
        self.actions.panels_menu.addAction(dock.toggleViewAction())

    def save_settings(self) -> None:
        window_state.save(self)

    # --- what other parts and the command line ask of the window -----------------------------------
    def open_project(self, image_dir, class_file=None, save_dir=None, select: str | None = None) -> bool:
        """Open a folder; ``select`` names the image to show first (see ``opening``)."""
        return self.opening.open(image_dir, class_file, save_dir, select)

    def open_startup(self, image_dir=None, class_file=None, save_dir=None) -> bool:
        """labelImg's arguments; with none, the last folder, else the demo project."""
        return self.opening.open_startup(image_dir, class_file, save_dir)

    def show_image(self, index: int) -> bool:
        """Ask for image ``index``; it appears when loaded (at once when prefetched), never blocking."""
        self.tools.cancel()
        return self.session.load_index(index)

    def go(self, step: int) -> bool:
        """Previous / next image in the file list as displayed (filtered, maybe sorted)."""
        index = navigation.step(self.file_dock.displayed_indices(), self.session.index, step,
                                skip=self.session.taken_indices())
        return index is not None and self.show_image(index)

    def select_class(self, value: int | None) -> None:
        project = self.session.project
        if project is None or value is None or not (0 <= value < len(project.classes) or value == IGNORE_INDEX):
            return
        self.tools.current_class = int(value)
        if value == IGNORE_INDEX:
            self.actions["tool_ignore"].trigger()
        elif self.tools.tool in (Tool.ERASER, Tool.IGNORE):
            self.actions["tool_brush"].trigger()
        self.class_dock.set_current(value)
        self.status.show(f"Class {value}: {project.classes.name_of(value)}", 3000)

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
        self.view.update_counts()

    def update_lut(self) -> None:
        project = self.session.project
        if project is None:
            return
        scribbles = unpainted_value(project) == IGNORE_INDEX  # unpainted shows the photo, background a colour
        lut = overlay.mask_lut(project.classes.colour_table()[: len(project.classes)], self.class_dock.visible,
                               scribbles)
        self.mask_layer.set_lut(lut)
        self.class_dock.set_swatches(lut)  # the list shows the colours the canvas paints
        self.session.overlay_lut = self.mask_layer.native_lut

    def undo(self) -> None:
        self.tools.cancel()
        if self.session.document is not None and self.session.document.undo() is not None:
            # the document commits it (autosave and counts follow); the message of what was undone
            # ("Prediction accepted…") must not stay
            self.status.show("Undone: the last edit (Ctrl+Y redoes it)", 3000)

    def redo(self) -> None:
        self.tools.cancel()
        if self.session.document is not None and self.session.document.redo() is not None:
            self.status.show("Redone: the edit undone last", 3000)

    def save(self) -> None:
        self.tools.cancel()
        self.session.save_async()

    def offer_mask_repair(self) -> bool:
        """The open image's mask did not load: ask for a repair (see mask_repair_flow)."""
        return mask_repair_flow.offer_repair(self)

    # --- closing ---------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802
        """Ask every question first (features, unsaved edits); only a confirmed close stops anything,
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
            self.status.show("Closing: writing the last changes…")
            self.session.flush(lambda: QTimer.singleShot(0, self, self.close))  # not once the window is gone
            return
        if self.session.has_unsaved_snapshots() and not self.closing.losing_accepted:
            if not dialogs.confirm(self, "Unsaved changes",
                                   "Some edits could not be saved. Quit anyway and lose them?"):
                self.closing.confirmed = False
                event.ignore()
                return
            self.closing.losing_accepted = True  # asked once, also when the close then waits for a stop
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
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if dropped_path(urls) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = dropped_path(event.mimeData().urls() if event.mimeData().hasUrls() else [])
        if path is not None:
            event.acceptProposedAction()
            self.opening.drop(path)
