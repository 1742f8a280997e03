"""The "Add from the Hub…" dialog of the Models dock: any SegFormer on the Hugging Face hub, by its id.

The user types ``owner/name`` (or ``owner/name@revision``) and presses Look up: the repository's
small files are read on the window's downloads pool (:func:`hub_models.look_up`) and the dialog
says what it is, what it costs and its licence, or in one line why it cannot be used (not a
SegFormer, not found, offline...). A licence that is not permissive must be ticked as accepted
before Download is enabled. Download runs on the same pool behind a progress dialog with Cancel;
a stopped download continues next time. ``added`` then carries (choice, folder) to the dock,
which makes a segmenter the active model or offers an encoder to the training form. The flow
lives in :mod:`segstudio.application.training.hub_models`; this is its thin Qt face.
"""

from __future__ import annotations

from concurrent.futures import Future

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from segstudio.application.training import hub_models
from segstudio.gui.workers.progress_job import start_job
from segstudio.model.weights.hub import DownloadCancelled

PROMPT = ("Type the id of a SegFormer on the Hugging Face hub, as its page shows it: owner/name "
          "(owner/name@revision for a branch, tag or commit).")


class HubModelDialog(QDialog):
    """Look a hub id up, show what it is and its licence, download it; ``added`` on success."""

    added = Signal(object)   # (HubChoice, Path of the cached folder)

    def __init__(self, pool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hub_model_dialog")
        self.setWindowTitle("Add a model from the Hugging Face Hub")
        self.pool = pool
        self.choice: hub_models.HubChoice | None = None
        self.id_edit = QLineEdit()
        self.id_edit.setPlaceholderText("owner/name, e.g. someone/segformer-b0-finetuned-faces")
        self.id_edit.setMinimumWidth(380)
        self.look_button = QPushButton("Look up")
        self.summary = QLabel(PROMPT)
        self.summary.setWordWrap(True)
        self.summary.setMinimumHeight(72)
        self.accept_box = QCheckBox("I accept this licence")
        self.accept_box.hide()
        self.download_button = QPushButton("Download")
        self.close_button = QPushButton("Close")
        row = QHBoxLayout()
        row.addWidget(self.id_edit, 1)
        row.addWidget(self.look_button)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.accept_box)
        layout.addLayout(buttons)
        self.id_edit.returnPressed.connect(self.look_up)
        self.id_edit.textEdited.connect(self._forget)
        self.look_button.clicked.connect(self.look_up)
        self.accept_box.toggled.connect(lambda checked: self._update())
        self.download_button.clicked.connect(self.download)
        self.close_button.clicked.connect(self.close)
        self._update()

    # --- look up -------------------------------------------------------------------------------
    def look_up(self) -> None:
        text = self.id_edit.text().strip()
        if not text or not self.look_button.isEnabled():
            return
        self._forget()
        self.look_button.setEnabled(False)
        self.summary.setText(f"Reading {text}'s config.json and model card…")
        start_job(self, self.pool, f"Looking up {text}",
                  lambda progress, stop: hub_models.look_up(text, progress, stop), self._looked_up)

    def _looked_up(self, future: Future) -> None:
        self.look_button.setEnabled(True)
        if future.cancelled() or isinstance(future.exception(), DownloadCancelled):
            self.summary.setText(PROMPT)
        elif future.exception() is not None:
            self.summary.setText(str(future.exception()))
        else:
            self.choice = future.result()
            self.summary.setText(self.choice.summary)
            self.accept_box.setVisible(hub_models.needs_acceptance(self.choice))
        self._update()

    def _forget(self) -> None:
        """The id changed: what was looked up no longer applies."""
        self.choice = None
        self.accept_box.setChecked(False)
        self.accept_box.hide()
        self._update()

    # --- download ------------------------------------------------------------------------------
    def download(self) -> None:
        choice = self.choice
        if choice is None or not self.download_button.isEnabled():
            return
        if choice.cached is not None:     # already downloaded: add it as it is
            self._added(choice, choice.cached)
            return
        self.download_button.setEnabled(False)
        self.look_button.setEnabled(False)
        start_job(self, self.pool, f"Downloading {choice.name.text}",
                  lambda progress, stop: hub_models.download(choice, progress, stop),
                  lambda future: self._downloaded(choice, future))

    def _downloaded(self, choice: hub_models.HubChoice, future: Future) -> None:
        self.look_button.setEnabled(True)
        if future.cancelled() or isinstance(future.exception(), DownloadCancelled):
            self.summary.setText(f"{choice.name.text}: download stopped; Download again continues where it "
                                 "stopped.")
        elif future.exception() is not None:
            self.summary.setText(str(future.exception()))
        else:
            self._added(choice, future.result())
            return
        self._update()

    def _added(self, choice: hub_models.HubChoice, folder) -> None:
        use = ("offered as a starting point in the Train dock" if hub_models.is_encoder(choice, folder)
               else "now the active model")
        self.choice = hub_models.HubChoice(choice.name, folder, None)
        self.summary.setText(f"{choice.name.text} is in the Hugging Face cache and {use}:\n{folder}")
        self.accept_box.hide()
        self._update()
        self.added.emit((choice, folder))

    def _update(self) -> None:
        choice = self.choice
        ready = choice is not None and (not hub_models.needs_acceptance(choice) or self.accept_box.isChecked())
        self.download_button.setEnabled(ready)
        self.download_button.setText("Use it" if choice is not None and choice.cached is not None else "Download")
