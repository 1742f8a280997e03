"""The models dock: the project's trained models, the active one, public checkpoints, deletion.

Which model is active is the window's :class:`ActiveModel` (one place sets it and says so); the
dock lists the models, asks it to change, and follows its ``changed`` event.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from segstudio.application.training.active_model import ActiveModel
from segstudio.application.training.hub_models import is_encoder
from segstudio.application.training.model_registry import (
    ModelRecord,
    active_model_path,
    delete_model,
    display_name,
    list_models,
    record_for,
)
from segstudio.core.errors import SegStudioError
from segstudio.gui.docks.dock_body import scrolling
from segstudio.gui.docks.hub_model_dialog import HubModelDialog
from segstudio.gui.docks.pretrained_panel import PretrainedPanel
from segstudio.gui.docks.table_fit import breakable, wrap_rows
from segstudio.gui.window import dialogs

CHECKPOINT_FILTER = "Checkpoints (*.safetensors *.bin *.pth *.pt);;All files (*)"


def ask_checkpoint(parent: QWidget | None, start: str = "") -> str | None:
    """File dialog for a public checkpoint (replaced by tests)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load a checkpoint", start, CHECKPOINT_FILTER)
    return path or None


class ModelsDock(QDockWidget):
    """Lists models and changes the active one through ``active_model``."""

    def __init__(self, active_model: ActiveModel, parent: QWidget | None = None, pool=None) -> None:
        """``pool``: where public checkpoints are downloaded (the window's); without one, no catalogue."""
        super().__init__("Models", parent)
        self.setObjectName("models_dock")
        self.active_model = active_model
        self.project = None
        self.read_only: str | None = None  # why models cannot be deleted or switched (see Session)
        self.records: list[ModelRecord] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Variant", "Date", "Best mIoU"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        wrap_rows(self.tree)  # a long model name wraps; Best mIoU keeps its width
        self.use_button = QPushButton("Use")
        self.use_button.setToolTip("Make the selected model the active one (predictions, review)")
        self.load_button = QPushButton("Load checkpoint…")
        self.load_button.setToolTip("Use a public SegFormer checkpoint file (nothing is copied)")
        self.delete_button = QPushButton("Delete")
        self.active_label = QLabel("No active model")
        self.active_label.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.use_button, self.load_button, self.delete_button):
            buttons.addWidget(button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.active_label)
        self.pretrained = PretrainedPanel(pool, body) if pool is not None else None
        self.hub_button: QPushButton | None = None
        self.hub_dialog: HubModelDialog | None = None
        if self.pretrained is not None:
            layout.addWidget(self.pretrained, 2)  # the catalogue is longer than most projects' list
            self.hub_button = QPushButton("Add from the Hub…")
            self.hub_button.setToolTip("Any SegFormer on the Hugging Face hub, by its id (owner/name)")
            layout.addWidget(self.hub_button)
            self.pretrained.use_model.connect(self.set_active)
            self.hub_button.clicked.connect(self.add_from_hub)
        self.setWidget(scrolling(body))
        self.use_button.clicked.connect(self.use_selected)
        self.load_button.clicked.connect(self.load_checkpoint)
        self.delete_button.clicked.connect(self.delete_selected)
        self.tree.itemDoubleClicked.connect(lambda item, column: self.use_selected())
        self._update_buttons()
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        active_model.changed.connect(lambda path: self.refresh())

    # --- content ---------------------------------------------------------------------------------
    def set_project(self, project) -> None:
        self.project = project
        self.refresh()

    @property
    def active(self) -> Path | None:
        return active_model_path(self.project)

    def refresh(self) -> None:
        """Re-read the models folder (after a training run, a deletion, a new project, a change made
        in another window); the selected model stays selected."""
        chosen = self.selected()
        project = self.project
        self.records = list_models(project.save_dir) if project is not None else []
        active = self.active
        if active is not None and all(r.path != active for r in self.records):
            external = record_for(active, external=True)
            if external is not None:
                self.records.insert(0, external)
        self.tree.clear()
        for record in self.records:
            miou = "—" if math.isnan(record.best_miou) else f"{record.best_miou:.3f}"
            # The day and time in short (the year in the tooltip): a narrow dock keeps room for the name.
            modified = time.localtime(record.modified)
            date = time.strftime("%m-%d %H:%M", modified)
            item = QTreeWidgetItem([record.name, record.variant or "?", date, miou])
            item.setToolTip(0, str(record.path))
            item.setToolTip(2, time.strftime("%Y-%m-%d %H:%M", modified))
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if record.path == active:
                font = QFont(item.font(0))
                font.setBold(True)
                for column in range(4):
                    item.setFont(column, font)
                item.setText(0, f"● {record.name}")
            self.tree.addTopLevelItem(item)
        # a long id or name wraps at its dashes and slashes instead of widening the dock
        self.active_label.setText(f"Active: {breakable(display_name(active))}" if active is not None else
                                  "No active model: train one, or load a checkpoint")
        if chosen is not None:
            self.select_path(chosen.path)
        self._update_buttons()

    def selected(self) -> ModelRecord | None:
        row = self.tree.indexOfTopLevelItem(self.tree.currentItem()) if self.tree.currentItem() else -1
        return self.records[row] if 0 <= row < len(self.records) else None

    def select_path(self, path: Path) -> None:
        for row, record in enumerate(self.records):
            if record.path == Path(path):
                self.tree.setCurrentItem(self.tree.topLevelItem(row))

    # --- actions ---------------------------------------------------------------------------------
    def _refuse_read_only(self) -> bool:
        if self.read_only:
            dialogs.error(self, "Models", f"The project is {self.read_only}; models cannot be changed here.")
        return bool(self.read_only)

    def set_active(self, path: Path | None) -> None:
        if self.project is None or self._refuse_read_only():
            return
        try:
            self.active_model.set(path)  # the list follows its announcement
        except (OSError, SegStudioError) as exc:
            dialogs.error(self, "Cannot save the active model", str(exc))

    def use_selected(self) -> None:
        record = self.selected()
        if record is not None:
            self.set_active(record.path)

    def load_checkpoint(self) -> None:
        if self.project is None:
            return
        path = ask_checkpoint(self, str(self.project.save_dir))
        if path:
            if record_for(Path(path), external=True) is None:
                dialogs.error(self, "Not a checkpoint", f"{path} holds no model weights")
                return
            self.set_active(Path(path))

    def add_from_hub(self) -> None:
        """Open the "Add from the Hub…" dialog (one at a time); what it adds is used or offered."""
        if self.hub_dialog is None:
            self.hub_dialog = HubModelDialog(self.pretrained.pool, self)
            self.hub_dialog.added.connect(self._hub_model_added)
        self.hub_dialog.show()
        self.hub_dialog.raise_()

    def _hub_model_added(self, added) -> None:
        choice, folder = added
        if is_encoder(choice, folder):
            self.pretrained.train_from.emit(choice.name.text)
        elif self.project is None:
            dialogs.info(self, "Model downloaded", f"{choice.name.text} is in the Hugging Face cache; open a "
                         "project to use it (Add from the Hub… again offers it at once).")
        else:
            self.set_active(folder)

    def delete_selected(self) -> None:
        record = self.selected()
        if record is None or self.project is None or self._refuse_read_only():
            return
        what = "Forget the checkpoint" if record.external else "Delete the model folder"
        if not dialogs.confirm(self, "Delete model", f"{what} {record.path}?"):
            return
        was_active = record.path == self.active
        try:
            delete_model(self.project, record)
        except (OSError, SegStudioError) as exc:
            dialogs.error(self, "Cannot delete model", str(exc))
        self.refresh()
        if was_active:
            self.active_model.announce()  # no active model any more

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.use_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.load_button.setEnabled(self.project is not None)
