"""What the window shows of the session's image: the picture, its mask, the class counts, the
status-bar labels and which editing actions are on.

A part of the window (built in ``app_window``), given exactly what it draws on and listening to
the session's events and the edit feed: an image being loaded (its name, nothing to paint), loaded
(picture, mask layer, counts; painting on unless the project is read-only), failed; a finished step
(counts recounted after a short pause, the class under the cursor). It owns no flow: which image
comes, when it is saved and what a read-only project allows are the session's.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QWidget

from segstudio.application.session.controller import ProjectSession
from segstudio.application.session.edit_feed import EditFeed
from segstudio.application.session.loading import LoadedImage
from segstudio.core.masks import label_counts
from segstudio.gui.canvas.canvas import Canvas
from segstudio.gui.canvas.canvas_tools import ToolController
from segstudio.gui.canvas.mask_layer import MaskLayer
from segstudio.gui.docks.class_dock import ClassDock
from segstudio.gui.docks.file_dock import FileDock
from segstudio.gui.window import dialogs
from segstudio.gui.workers.background import BackgroundPool

COUNT_DELAY_MS = 250
SYNC_COUNT_PIXELS = 2_000_000  # bigger maps are counted on a worker thread (~60 ms at 48 Mpixel)
EDITING_ACTIONS = ("undo", "redo", "fill_unlabelled", "save", "verify")


@dataclass(frozen=True)
class Surfaces:
    """The widgets the image view draws on."""

    canvas: Canvas
    mask_layer: MaskLayer
    tools: ToolController
    file_dock: FileDock
    class_dock: ClassDock
    labels: dict[str, QLabel]  # status-bar labels: "class", "pos", "size", "save"...
    actions: Callable[[str], QAction]  # the window's action by name


class ImageView(QObject):
    """Follows the session's image onto the screen (see the module docstring)."""

    def __init__(self, session: ProjectSession, edits: EditFeed, surfaces: Surfaces, count_pool: BackgroundPool,
                 show_status: Callable[[str, int], None], on_change: Callable[[], None],
                 offer_repair: Callable[[], object], parent: QWidget) -> None:
        super().__init__(parent)
        self.session, self.s = session, surfaces
        self._parent = parent
        self._show_status, self._on_change, self._offer_repair = show_status, on_change, offer_repair
        self._count_pool = count_pool
        self.shown: LoadedImage | None = None  # the image on screen: its pixels stay alive until the next
        self.cursor: tuple[int, int] | None = None  # image pixel under the mouse, for the status bar
        self._count_timer = QTimer(self, singleShot=True, interval=COUNT_DELAY_MS)
        self._count_timer.timeout.connect(self.update_counts)
        session.loading_started.connect(self._loading)
        session.image_loaded.connect(self._loaded)
        session.load_failed.connect(self._failed)
        session.mask_restored.connect(self.update_counts)
        edits.changed.connect(surfaces.mask_layer.update_rect)
        edits.committed.connect(self._committed)
        surfaces.tools.edit_refused.connect(self.edit_refused)
        surfaces.canvas.cursor_moved.connect(self.show_cursor)

    def set_editing_enabled(self, enabled: bool) -> None:
        for name in EDITING_ACTIONS:
            self.s.actions(name).setEnabled(enabled)

    def _loading(self, index: int) -> None:
        """The next image is on its way: no document, no painting, its name and a "loading" state."""
        s = self.s
        s.tools.set_document(None)
        self.set_editing_enabled(False)
        project = self.session.project
        name = project.entries[index].image_path.name if project is not None else ""
        s.canvas.set_loading(f"Loading {name}…")
        s.file_dock.set_current(index)
        s.labels["size"].setText("loading…")
        s.labels["class"].setText("")
        s.class_dock.set_counts(None)
        self._on_change()

    def _failed(self, message: str) -> None:
        s = self.s
        if self.session.current is None:  # nothing to go back to
            s.canvas.set_loading(None)
            s.canvas.set_image(None)
            s.mask_layer.clear()
            self.shown = None
            self._on_change()
        dialogs.error(self._parent, "Cannot open image", message)

    def _loaded(self, loaded: LoadedImage) -> None:
        s, document = self.s, self.session.document
        assert document is not None
        editable = document.locked is None  # a read-only project: shown, never edited
        s.tools.set_document(document)  # a gesture on a locked document says why it does nothing
        self.set_editing_enabled(editable)
        s.canvas.set_loading(None)
        self.shown = loaded
        ready = loaded.overlay if loaded.overlay_lut is s.mask_layer.native_lut else None
        s.mask_layer.set_label(document.label, prepared=ready)
        loaded.overlay = None  # now owned by the layer
        s.canvas.set_image(loaded.display.qimage, loaded.display.pyramid)
        s.file_dock.set_current(loaded.index)
        width, height = loaded.size
        s.labels["size"].setText(f"{width} × {height}")
        self._on_change()
        s.actions("repair_mask").setEnabled(False)
        if not editable:
            self.edit_refused(document.locked or "")
        elif loaded.mask_problem is not None:
            self._offer_repair()
        if loaded.counts is not None:
            s.class_dock.set_counts(loaded.counts)
        else:
            self.update_counts()

    def clear(self, placeholder: str) -> None:
        """No image to show (an empty folder)."""
        self.s.canvas.set_image(None)
        self.s.mask_layer.clear()
        self.s.canvas.placeholder = placeholder
        self.shown = None

    def set_opacity(self, opacity: float) -> None:
        self.s.mask_layer.opacity = max(0.0, min(1.0, float(opacity)))
        self.s.canvas.viewport().update()

    def show_mask(self, shown: bool) -> None:
        self.s.mask_layer.visible = shown
        self.s.canvas.viewport().update()

    def edit_refused(self, reason: str) -> None:
        what = "This image" if reason and reason == self.session.taken else "The project"
        self._show_status(f"{what} is {reason}: painting is off in this window", 8000)

    def _committed(self, kind: str) -> None:
        """A step of the image on screen is complete (autosave is the session's own business)."""
        self._count_timer.start()
        self.show_cursor(self.cursor)  # the label under a still cursor may have just changed

    def update_counts(self) -> None:
        """Pixels per class of the open image; big maps are counted off the GUI thread."""
        document = self.session.document
        if document is None or document.label.size <= SYNC_COUNT_PIXELS:
            self.s.class_dock.set_counts(None if document is None else label_counts(document.label))
            return
        self._count_pool.submit(label_counts, document.label, on_done=lambda f: self._counted(document, f))

    def _counted(self, document: object, future: Future) -> None:
        if document is self.session.document and not future.cancelled() and future.exception() is None:
            self.s.class_dock.set_counts(future.result())  # an edit meanwhile restarts the count timer

    def show_cursor(self, point: tuple[int, int] | None) -> None:
        self.cursor = point
        labels, document, project = self.s.labels, self.session.document, self.session.project
        if point is None or document is None or project is None:
            labels["pos"].setText("")
            labels["class"].setText("")
            return
        x, y = point
        height, width = document.label.shape
        if not (0 <= x < width and 0 <= y < height):  # a point left over from another image
            self.show_cursor(None)
            return
        labels["pos"].setText(f"x {x}, y {y}")
        value = int(document.label[y, x])
        labels["class"].setText(f"{value}: {project.classes.name_of(value)}")
