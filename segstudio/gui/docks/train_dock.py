"""The training dock: a view over the window's :class:`TrainingController` (settings, Train/Stop,
progress, live curves, per-class IoU).

The form becomes the controller's request (its options, limits and defaults come from the options
table, segstudio.model.training.options, as the command line's do; remembered in QSettings); the
controller writes the queued saves, snapshots the masks, runs the job and decides the active model,
and its events become the chart, the tables, the progress line and the message, including what a
stopped run kept. Results (the model folder with config.json and history.json) are written by the
engine, so the curves of the active model come back after a restart (:meth:`show_history`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from segstudio.application.training.controller import TrainingController
from segstudio.application.training.run_outcome import RunOutcome, RunStarted, format_eta
from segstudio.application.training.run_plan import OFFER_MINUTES, FormPlan, fresh_values
from segstudio.gui.docks.active_question import ActiveQuestion
from segstudio.gui.docks.dock_body import scrolling
from segstudio.gui.docks.review_dock import NumberItem, _ratio_item
from segstudio.gui.docks.table_fit import wrap_rows
from segstudio.gui.docks.train_chart import TrainChart
from segstudio.gui.docks.train_plan import TrainPlanView
from segstudio.gui.workers.device_info import describe_async
from segstudio.model.training.options import DEFAULT_STEPS, LR_DEFAULTS, MAX_STEPS, TrainOption, option
from segstudio.model.training.types import EpochSummary, TrainConfig, TrainProgress

VARIANT_ITEMS = [("Auto: pretrained B0 if cached", "auto"),
                 ("SegFormer B0 from scratch (fastest)", "b0"), ("SegFormer B1 from scratch", "b1"),
                 ("SegFormer B2 from scratch", "b2"), ("SegFormer B3 from scratch", "b3"),
                 ("SegFormer B4 from scratch", "b4"), ("SegFormer B5 from scratch (largest)", "b5"),
                 ("Continue the active model", "@active")]
BROWSE_FILE, BROWSE_FOLDER = "@file", "@folder"
LOSSES = [("Cross-entropy", "ce"), ("Cross-entropy + Dice", "ce+dice"), ("Focal", "focal")]
DEVICE_NAMES = {"auto": "Auto", "cuda": "CUDA GPU", "mps": "Apple MPS", "cpu": "CPU"}  # the table's choices
LENGTH_UNITS = ("epochs", "steps", "minutes")  # one row of the form: the exclusive options of the table


def ask_model_source(parent: QWidget | None, folder: bool, start: str = "") -> str | None:
    """Dialog for a checkpoint file or a model folder to start from (replaced by tests)."""
    if folder:
        return QFileDialog.getExistingDirectory(parent, "Start from a model folder", start) or None
    path, _ = QFileDialog.getOpenFileName(parent, "Start from a checkpoint", start,
                                          "Checkpoints (*.safetensors *.bin *.pth *.pt);;All files (*)")
    return path or None


def _spin_box(opt: TrainOption, suffix: str = "") -> QSpinBox:
    """A spin box with the option's limits, step and default."""
    return QSpinBox(minimum=int(opt.minimum), maximum=int(opt.maximum), singleStep=opt.multiple,
                    value=int(opt.default), suffix=suffix)


class TrainSettings(Protocol):
    """Where the form is remembered (the window's QSettings)."""

    def train_options(self) -> dict: ...

    def has_train_options(self) -> bool: ...

    def set_train_options(self, values: dict) -> None: ...


class TrainDock(QDockWidget):
    """Settings and progress of the training controller's run."""

    run_started = Signal()
    run_finished = Signal(object)  # RunOutcome
    _device_text = Signal(str)

    def __init__(self, training: TrainingController, settings: TrainSettings, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("train_dock")
        self.training = training
        self.settings = settings
        self.class_names: list[str] = []
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.settings_button = QToolButton()
        self.settings_button.setCheckable(True)
        self.settings_button.setChecked(True)
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setAutoRaise(True)
        self.settings_button.toggled.connect(self._show_settings)
        self.settings_box = QWidget()
        self.settings_box.setLayout(self._build_form())
        self.plan_view = TrainPlanView()  # what Train will do here and how long (the controller's plan)
        # Folded, the settings in one wrapping line (a button's text would widen the dock).
        self.settings_summary = QLabel()
        self.settings_summary.setWordWrap(True)
        layout.addWidget(self.settings_button)
        layout.addWidget(self.settings_summary)
        layout.addWidget(self.settings_box)
        layout.addWidget(self.plan_view)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train on the labelled images as they are now (painting can go on)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the best checkpoint is kept")
        self.stop_button.setEnabled(False)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        self.progress = QProgressBar()
        self.progress.setFormat("step %v / %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.speed_label = QLabel("")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = TrainChart()
        self.iou_table = QTableWidget(0, 2)
        self.iou_table.setHorizontalHeaderLabels(["Class", "IoU (last validation)"])
        self.iou_table.verticalHeader().setVisible(False)
        self.iou_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        wrap_rows(self.iou_table)
        self.iou_table.setSortingEnabled(True)
        self.iou_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # class order
        self.speed_label.setWordWrap(True)
        layout.insertWidget(0, self.message)  # what the run is doing, or what it kept
        self.message.setVisible(False)
        self.question = ActiveQuestion(training.answer)  # after a worse run: which model predicts
        self.question.answered.connect(self.show_message)
        layout.insertWidget(1, self.question)
        layout.addWidget(self.chart, 3)
        layout.addWidget(self.iou_table, 2)
        area = scrolling(body, width=340)
        # Narrow columns wrap and shrink instead of scrolling sideways (a laptop's dock is ~300 px).
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(self._pinned_below(area, buttons))
        self.train_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self._device_text.connect(self.device_label.setText)
        self.model_box.currentIndexChanged.connect(lambda index: self._source_changed())
        self._restore_settings()
        self._describe_device()
        self._show_settings(True)
        self._source_changed()
        self._follow(training)
        self._follow_plan(training)

    def _pinned_below(self, area: QWidget, buttons: QHBoxLayout) -> QWidget:
        """The scrolled message, form, chart and table above; Train, Stop and the progress in one
        row and the progress line below them, outside the scroll area: always in view, whatever
        the dock's height (a short dock gives the scroll area what is left)."""
        pinned = QWidget()
        outer = QVBoxLayout(pinned)
        outer.setContentsMargins(0, 0, 0, 4)
        outer.setSpacing(2)
        outer.addWidget(area, 1)
        buttons.setContentsMargins(4, 0, 4, 0)
        buttons.addWidget(self.progress, 1)
        outer.addLayout(buttons)
        self.speed_label.setContentsMargins(4, 0, 4, 0)
        outer.addWidget(self.speed_label)
        return pinned

    def _follow(self, training: TrainingController) -> None:
        """The controller's events become the dock's state."""
        training.starting.connect(self._on_starting)
        training.not_started.connect(self._on_not_started)
        training.started.connect(self._on_started)
        training.progress.connect(self._on_progress)
        training.epoch.connect(self._on_epoch)
        training.stopping.connect(self._on_stopping)
        training.finished.connect(self._on_finished)

    def _follow_plan(self, training: TrainingController) -> None:
        """The plan follows the form; its offer switches the form to a time budget."""
        training.plan.changed.connect(self._on_plan)
        self.plan_view.use_budget.connect(self._use_budget)
        for box in (self.size_box, self.batch_box, self.length_box):
            box.valueChanged.connect(lambda value: self.update_plan())
        for combo in (self.unit_box, self.model_box, self.device_box):
            combo.currentIndexChanged.connect(lambda index: self.update_plan())
        self.update_plan()

    def update_plan(self) -> None:
        """Ask for the plan of the form as it is now (shown when it comes: at once, or after the
        controller's probe of this machine)."""
        try:
            values = self.form_values()
        except ValueError:  # an lr being typed: the plan does not depend on it
            return
        self.training.plan.update(values)

    def _on_plan(self, plan: FormPlan) -> None:
        self.plan_view.show_plan(plan)
        untouched = self.unit_box.currentText() == "minutes" and self.length_box.value() == OFFER_MINUTES
        if self._fresh and untouched and plan.device and plan.device != "cpu":  # a GPU: the automatic length
            self._fresh = False
            self.length_box.setValue(0)

    def _use_budget(self, minutes: int) -> None:
        self.unit_box.setCurrentText("minutes")
        self.length_box.setValue(minutes)

    # --- settings form ---------------------------------------------------------------------------
    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.model_box = QComboBox()
        for text, data in VARIANT_ITEMS:
            self.model_box.addItem(text, data)
        self.model_box.addItem("Checkpoint file…", BROWSE_FILE)
        self.model_box.addItem("Model folder…", BROWSE_FOLDER)
        self.model_box.setToolTip("Auto: the ImageNet-pretrained B0 encoder when it is downloaded (Models dock), "
                                  "else B0 from scratch. Or an architecture to train from scratch, or weights "
                                  "to start from (a public SegFormer checkpoint, or one of your models)")
        self.model_box.activated.connect(self._on_model_chosen)
        form.addRow("Start from", self.model_box)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("automatic (variant-date)")
        form.addRow("Name", self.name_edit)
        self.size_box = _spin_box(option("size"), suffix=" px")
        self.batch_box = _spin_box(option("batch"))
        row = QHBoxLayout()
        row.addWidget(self.size_box)
        row.addWidget(QLabel("batch"))
        row.addWidget(self.batch_box)
        form.addRow("Image size", row)
        # 0 = neither epochs nor steps: the engine's default length (whole epochs)
        self.length_box = QSpinBox(minimum=0, maximum=MAX_STEPS, value=0)
        self.length_box.setSpecialValueText(f"automatic (about {DEFAULT_STEPS} steps)")
        self.unit_box = QComboBox()
        self.unit_box.addItems(list(LENGTH_UNITS))
        row = QHBoxLayout()
        row.addWidget(self.length_box, 1)
        row.addWidget(self.unit_box)
        form.addRow("Length", row)
        self.loss_box = QComboBox()
        for text, data in LOSSES:
            self.loss_box.addItem(text, data)
        self.weights_box = QCheckBox("class weights")
        self.weights_box.setToolTip("Weigh rare classes up (median frequency)")
        row = QHBoxLayout()
        row.addWidget(self.loss_box, 1)
        row.addWidget(self.weights_box)
        form.addRow("Loss", row)
        self.lr_edit = QLineEdit()
        self.lr_edit.setPlaceholderText("automatic")
        self.lr_edit.setToolTip(f"Blank: chosen for the starting point ({LR_DEFAULTS})")
        form.addRow("Learning rate", self.lr_edit)
        self.device_box = QComboBox()
        for data in option("device").choices:
            self.device_box.addItem(DEVICE_NAMES[data], data)
        self.device_box.currentIndexChanged.connect(lambda i: self._describe_device())
        self.device_label = QLabel("…")
        self.device_label.setWordWrap(True)
        form.addRow("Device", self.device_box)
        form.addRow(self.device_label)
        for box in (self.model_box, self.loss_box, self.device_box, self.unit_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(6)
        return form

    def _show_settings(self, shown: bool) -> None:
        """Fold the settings to one line (while training, the curves get the room)."""
        self.settings_box.setVisible(shown)
        self.settings_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.settings_button.setText("Settings")
        self.settings_summary.setText(self._summary())
        self.settings_summary.setVisible(not shown)

    def _summary(self) -> str:
        length = self.length_box.specialValueText() if self.length_box.value() == 0 else \
            f"{self.length_box.value()} {self.unit_box.currentText()}"
        return (f"{self.model_box.currentText().split(' (')[0]}, {self.size_box.value()} px, "
                f"batch {self.batch_box.value()}, {length}")

    def _inputs(self) -> list[QWidget]:
        return [self.model_box, self.name_edit, self.size_box, self.batch_box, self.length_box, self.unit_box,
                self.loss_box, self.weights_box, self.lr_edit, self.device_box]

    def _on_model_chosen(self, index: int) -> None:
        data = self.model_box.itemData(index)
        if data not in (BROWSE_FILE, BROWSE_FOLDER):
            return
        save_dir = self.training.save_dir
        path = ask_model_source(self, data == BROWSE_FOLDER, str(save_dir) if save_dir is not None else "")
        if path:
            self.set_model_source(path)
        else:
            self.model_box.setCurrentIndex(0)

    def add_downloaded_models(self, rows) -> None:
        """Offer every downloaded public checkpoint of ``rows`` (the Models dock's list) as a start."""
        for row in rows:
            if row.downloaded and self.model_box.findData(row.entry.short) < 0:
                self.model_box.insertItem(len(VARIANT_ITEMS), f"{row.entry.short} ({row.trained_on}, downloaded)",
                                          row.entry.short)
                self.model_box.setItemData(len(VARIANT_ITEMS), f"{row.entry.id}, {row.entry.licence.name}",
                                           Qt.ItemDataRole.ToolTipRole)

    def set_model_source(self, source: str) -> None:
        """Select a variant ("b0"), "@active", or a checkpoint path (added to the list)."""
        index = self.model_box.findData(source)
        if index < 0:
            self.model_box.insertItem(len(VARIANT_ITEMS), Path(source).name, source)
            self.model_box.setItemData(len(VARIANT_ITEMS), source, Qt.ItemDataRole.ToolTipRole)
            index = len(VARIANT_ITEMS)
        self.model_box.setCurrentIndex(index)

    def model_source(self) -> str:
        return str(self.model_box.currentData())

    def _source_changed(self) -> None:
        """The controller knows where the next run starts (live mode starts from it too)."""
        source = self.model_source()
        if source not in (BROWSE_FILE, BROWSE_FOLDER):
            self.training.start_from = source

    def _describe_device(self) -> None:
        """Which GPU (or how many CPU threads) the device choice means (never blocks: device_info)."""
        self.device_label.setText("detecting…")
        describe_async(str(self.device_box.currentData()), self._device_text.emit)

    def _restore_settings(self) -> None:
        values = self.settings.train_options()
        self._fresh = not self.settings.has_train_options()  # a time budget until a GPU is found
        self.set_form(fresh_values(values) if self._fresh else values)

    def save_settings(self) -> None:
        self.settings.set_train_options(self.form_values())

    def form_values(self) -> dict:
        """The form as ``{option name: value}`` of the options table's form options (``init`` may be
        "@active"; ``lr`` None when blank; at most one of epochs/steps set). ValueError for an lr
        that is not a number."""
        lr_text = self.lr_edit.text().strip()
        try:
            lr = float(lr_text) if lr_text else None
        except ValueError:
            raise ValueError(f"learning rate {lr_text!r} is not a number (e.g. 6e-5), leave it blank for "
                             "the default") from None
        length = self.length_box.value() or None
        unit = self.unit_box.currentText()
        return dict(init=self.model_source(), epochs=length if unit == "epochs" else None,
                    steps=length if unit == "steps" else None,
                    minutes=float(length) if unit == "minutes" and length else None, size=self.size_box.value(),
                    batch=self.batch_box.value(), lr=lr, loss=str(self.loss_box.currentData()),
                    class_weights=self.weights_box.isChecked(), device=str(self.device_box.currentData()))

    def set_form(self, values: dict) -> None:
        """Show ``values`` (as :meth:`form_values` gives them; remembered settings) in the form."""
        source = str(values["init"])
        if source.startswith("@") or source in dict((d, t) for t, d in VARIANT_ITEMS) or Path(source).exists():
            self.set_model_source(source if source not in (BROWSE_FILE, BROWSE_FOLDER) else "auto")
        self.size_box.setValue(int(values["size"]))
        self.batch_box.setValue(int(values["batch"]))
        unit = next((name for name in ("minutes", "steps") if values.get(name) is not None), "epochs")
        self.unit_box.setCurrentText(unit)
        self.length_box.setValue(int(values.get(unit) or 0))
        self.loss_box.setCurrentIndex(max(0, self.loss_box.findData(values["loss"])))
        self.weights_box.setChecked(bool(values["class_weights"]))
        self.lr_edit.setText("" if values["lr"] is None else f"{values['lr']:g}")
        self.device_box.setCurrentIndex(max(0, self.device_box.findData(values["device"])))

    def build_config(self) -> TrainConfig:
        """The TrainConfig of the form (ValueError with a readable message for a bad field)."""
        return self.training.config(self.form_values(), self.name_edit.text())

    # --- running ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from the click on Train (the saves are written first) until the run has ended."""
        return self.training.running

    def start(self) -> bool:
        """Ask the controller for a run of the form; False (with the reason shown) when refused."""
        try:
            values = self.form_values()
        except ValueError as exc:
            self.show_message(str(exc), error=True)
            return False
        refusal = self.training.start(values, self.name_edit.text())
        if refusal is not None:
            self.show_message(refusal.text, error=refusal.error)
            return False
        self.save_settings()
        return True

    def stop(self) -> None:
        """Ask the run to end after the current batch (its model and state are kept)."""
        self.training.stop()

    def _set_running(self, running: bool) -> None:
        for widget in self._inputs():
            widget.setEnabled(not running)
        self.settings_button.setChecked(not running)
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _on_starting(self, message: str) -> None:
        self._set_running(True)
        self.question.ask(None)
        self.show_message(message)

    def _on_not_started(self, reason: str) -> None:
        self._set_running(False)
        self.show_message(reason, error=True)

    def _on_started(self, started: RunStarted) -> None:
        self.class_names = list(started.class_names)
        self.chart.clear()
        self.iou_table.setRowCount(0)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.speed_label.setText("preparing…")
        self.show_message(started.text)
        self.run_started.emit()

    def _on_stopping(self) -> None:
        self.stop_button.setEnabled(False)
        self.speed_label.setText("stopping after this batch…")

    def _on_progress(self, p: TrainProgress) -> None:
        self.progress.setRange(0, max(1, p.total_steps))
        self.progress.setValue(p.step)
        self.speed_label.setText(f"epoch {p.epoch}/{p.epochs} · {p.images_per_s:.1f} images/s · "
                                 f"ETA {format_eta(p.eta_s)} · loss {p.loss:.3f}")
        if self.chart.loss.count() == 0:
            self.chart.set_epochs(p.epochs)
        self.chart.add_loss(p.step * p.epochs / max(1, p.total_steps), p.loss)

    def _on_epoch(self, summary: EpochSummary) -> None:
        self.chart.add_miou(float(summary.epoch), summary.val_miou)
        self.fill_iou(self.class_names, summary.val_iou)

    def _on_finished(self, outcome: RunOutcome) -> None:
        """How the run ended; the progress bar stays where it ended, the line says what was kept."""
        self._set_running(False)
        self.show_message(outcome.text, error=outcome.error)
        if outcome.step is not None and outcome.total_steps is not None:
            self.progress.setRange(0, max(1, outcome.total_steps))
            self.progress.setValue(outcome.step)
        self.speed_label.setText(outcome.line)
        self.question.ask(outcome.choice)
        self.run_finished.emit(outcome)

    # --- display ---------------------------------------------------------------------------------
    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))  # no empty line above the settings
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setProperty("error", error)

    def fill_iou(self, class_names: list[str], values: list) -> None:
        table = self.iou_table
        table.setSortingEnabled(False)
        table.setRowCount(0)
        for i, name in enumerate(class_names):
            value = values[i] if i < len(values) else None
            row = table.rowCount()
            table.insertRow(row)
            item = NumberItem(float(i), name)
            item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(row, 0, item)
            table.setItem(row, 1, _ratio_item(math.nan if value is None else float(value)))
        table.setSortingEnabled(True)

    def show_history(self, history: dict | None, folder: Path | None = None) -> None:
        """Curves and last per-class IoU of a finished run (the active model's history.json, from
        ``folder``); the run this dock has just shown keeps its own curves and summary."""
        if self.running or self.training.ran(folder):
            return
        epochs = (history or {}).get("epochs") or []
        self.chart.show_history(epochs)
        names = (history or {}).get("class_names") or self.class_names
        if epochs:
            self.fill_iou(list(names), epochs[-1].get("val_iou") or [])
            best = (history or {}).get("best_miou")
            steps = (history or {}).get("step"), (history or {}).get("total_steps")
            self.progress.setRange(0, max(1, int(steps[1] or 1)))
            self.progress.setValue(int(steps[0] or 0))
            if isinstance(best, (int, float)):
                self.speed_label.setText(f"{len(epochs)} epoch(s) · model val mIoU {best:.3f}")
        else:
            self.iou_table.setRowCount(0)
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.speed_label.setText("")
