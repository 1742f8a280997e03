"""The public SegFormer checkpoints in the models dock: downloaded or not, size, licence, Download.

A segmentation checkpoint (ADE20K, Cityscapes) can become the active model once downloaded, for
predictions and pre-labelling; an ImageNet encoder is a starting point for training ("Train from
it" selects it in the training dock). Downloads run on the window's "downloads" pool with a progress
dialog and Cancel; an interrupted download continues where it stopped next time.
"""

from __future__ import annotations

from concurrent.futures import Future

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from segstudio.application.training.pretrained import PretrainedRow, download, licence_question, rows
from segstudio.gui.docks.table_fit import wrap_rows
from segstudio.gui.window import dialogs
from segstudio.gui.workers.progress_job import start_job
from segstudio.model.weights.hub import DownloadCancelled


class PretrainedPanel(QWidget):
    """The catalogue list; ``use_model`` carries a downloaded segmentation checkpoint's folder and
    ``train_from`` an encoder's short name."""

    use_model = Signal(object)
    train_from = Signal(str)
    downloaded = Signal()  # a download finished: lists of downloaded models refresh

    def __init__(self, pool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.rows: list[PretrainedRow] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Pretrained", "Trained on", "Size", "Cached"])
        self.tree.setRootIsDecorated(False)
        wrap_rows(self.tree)  # a long checkpoint name wraps at its dashes; the other columns keep their width
        self.download_button = QPushButton("Download")
        self.use_button = QPushButton("Use")
        self.use_button.setToolTip("Make this downloaded checkpoint the active model (predictions, review)")
        self.train_button = QPushButton("Train from it")
        self.train_button.setToolTip("Start the next training run from this model")
        self.licence_label = QLabel()
        self.licence_label.setWordWrap(True)
        self.licence_label.setOpenExternalLinks(True)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.use_button, self.train_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.licence_label)
        self.download_button.clicked.connect(self.download_selected)
        self.use_button.clicked.connect(self._use)
        self.train_button.clicked.connect(self._train)
        self.tree.itemSelectionChanged.connect(self._update)
        self.refresh()

    def refresh(self) -> None:
        """Read the catalogue and the cache again (after a download)."""
        current = self.selected()
        self.rows = rows()
        self.tree.clear()
        for row in self.rows:
            item = QTreeWidgetItem([row.entry.short, row.trained_on, row.size_text,
                                    "yes" if row.downloaded else "no"])
            item.setToolTip(0, row.entry.id)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if current is not None and row.entry.id == current.entry.id:
                self.tree.setCurrentItem(item)
        self._update()

    def selected(self) -> PretrainedRow | None:
        item = self.tree.currentItem()
        row = self.tree.indexOfTopLevelItem(item) if item is not None else -1
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def select(self, short: str) -> None:
        for index, row in enumerate(self.rows):
            if row.entry.short == short:
                self.tree.setCurrentItem(self.tree.topLevelItem(index))

    def download_selected(self) -> None:
        row = self.selected()
        if row is None or row.downloaded:
            return
        if not dialogs.confirm(self, "Download a pretrained model", licence_question(row.entry)):
            return
        self.download_button.setEnabled(False)
        start_job(self, self.pool, f"Downloading {row.entry.short}",
                  lambda progress, stop: download(row.entry, progress, stop),
                  lambda future: self._downloaded(row, future))

    def _downloaded(self, row: PretrainedRow, future: Future) -> None:
        self.refresh()
        self.downloaded.emit()
        if future.cancelled() or isinstance(future.exception(), DownloadCancelled):
            dialogs.info(self, "Download stopped", f"{row.entry.id}: stopped; the next Download continues "
                         "where it stopped.")
        elif future.exception() is not None:
            dialogs.error(self, "Download failed", str(future.exception()))

    def _use(self) -> None:
        row = self.selected()
        if row is not None and row.downloaded and not row.entry.is_encoder:
            self.use_model.emit(row.path)

    def _train(self) -> None:
        row = self.selected()
        if row is not None and row.downloaded:
            self.train_from.emit(row.entry.short)

    def _update(self) -> None:
        row = self.selected()
        self.download_button.setEnabled(row is not None and not row.downloaded)
        self.use_button.setEnabled(row is not None and row.downloaded and not row.entry.is_encoder)
        self.train_button.setEnabled(row is not None and row.downloaded)
        if row is None:
            self.licence_label.setText("Public SegFormer checkpoints, downloaded once into the Hugging Face cache.")
        else:
            self.licence_label.setText(f'{row.entry.id}: <a href="{row.entry.licence.url}">'
                                       f"{row.entry.licence.name}</a>")
