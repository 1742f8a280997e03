"""Train, predict and review inside the window: the docks, the prediction layer and the Model menu.

The flows are the application controllers' (``application.training`` and ``application.review``):
the :class:`TrainingController` owns a run from the click on Train to the model made active, the
:class:`ReviewController` the prediction of the image on screen, its metrics, accept and
predict-all, and :class:`ActiveModel` which model predicts. This part only turns the docks' and
actions' events into their calls and their events into pixels: the training dock (runs), the
models dock (the active model), the prediction layer, the review dock and the file list's order.
It takes part in closing (gui.window.closing): a guard asks before a running training is stopped,
a hook asks the controllers to stop and hands back the future of their end.

It is given what it uses (:class:`ModelNeeds`), never the window; :func:`install` builds it from
the window until the window assembles its parts itself.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QProgressDialog

from segstudio.application.pools import Pools, when_all
from segstudio.application.review.controller import BatchOutcome, ReviewController, ShownPrediction
from segstudio.application.review.kept_record import KeptRecorder
from segstudio.application.review.review_rules import AcceptMode, project_aliases, set_project_aliases
from segstudio.application.session.controller import ProjectSession
from segstudio.application.session.edit_feed import EditFeed
from segstudio.application.session.team_session import label_next
from segstudio.application.training.active_model import ActiveModel
from segstudio.application.training.controller import TrainingController
from segstudio.application.training.model_registry import read_history, record_for
from segstudio.application.training.run_outcome import RunOutcome
from segstudio.core import overlay
from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.canvas.canvas import Canvas
from segstudio.gui.canvas.predict_layer import PredictionLayer, ViewMode
from segstudio.gui.docks.kept_plot import KeptPlot
from segstudio.gui.docks.models_dock import ModelsDock
from segstudio.gui.docks.review_dock import ReviewDock
from segstudio.gui.docks.train_dock import TrainDock, TrainSettings
from segstudio.gui.window import class_alias_dialog, dialogs
from segstudio.gui.window.actions import Spec
from segstudio.gui.window.parts import ActionHost, ClassVisibility, CloseHooks, FileOrder, StatusFn, ToolState
from segstudio.gui.workers.uncertainty import apply_to_file_dock

ACTION_SPECS = [
    Spec("train_start", "&Train", ("Ctrl+T",), tip="Train a model on the labelled images"),
    Spec("train_stop", "&Stop training"),
    Spec("prediction_toggle", "Show &prediction", ("T",), checkable=True),
    Spec("prediction_view", "Cycle prediction &view", ("V",), tip="Mask / prediction / both / error map"),
    Spec("prediction_accept", "&Accept prediction", ("Ctrl+Return",),
         tip="Copy the prediction into the mask (one undo step)"),
    Spec("predict_all", "Predict all &unlabelled…"),
    Spec("sort_uncertainty", "Sort files by &uncertainty", checkable=True,
         tip="Least certain images first: label those next"),
    Spec("label_next", "&Label next", ("N",),
         tip="One of the least certain images that no other window edits (with the uncertainty sort)"),
    Spec("map_classes", "&Map model classes…",
         tip="Which project class each class of the active model counts as (e.g. a public checkpoint's)"),
]


@dataclass(frozen=True)
class ModelNeeds:
    """What the model part uses of the window."""

    session: ProjectSession
    edits: EditFeed
    pools: Pools
    actions: ActionHost
    settings: TrainSettings
    closing: CloseHooks
    canvas: Canvas
    tools: ToolState
    file_dock: FileOrder
    class_dock: ClassVisibility
    add_dock: Callable[[QDockWidget], None]  # placed beside the file list
    status: StatusFn


class ModelFeatures:
    """The controllers of training and review, and the docks and layer that show them."""

    def __init__(self, needs: ModelNeeds) -> None:
        self.needs = needs
        session, pools = needs.session, needs.pools
        self.active_model = ActiveModel(session)
        self.training = TrainingController(session, pools, self.active_model)
        self.review = ReviewController(session, needs.edits, pools, self.active_model)
        self.train_dock = TrainDock(self.training, needs.settings)
        self.models_dock = ModelsDock(self.active_model, pool=pools.pool("downloads"))
        self.review_dock = ReviewDock()
        self.kept = KeptRecorder(session, self.review, pools)
        self.kept_plot = KeptPlot()
        self.review_dock.tabs.addTab(self.kept_plot, "Kept")
        self.kept.changed.connect(self.kept_plot.set_records)
        self.kept.not_written.connect(lambda why: needs.status(why, 15000))
        self.kept_plot.set_records(self.kept.records)
        for dock in (self.train_dock, self.models_dock, self.review_dock):
            needs.add_dock(dock)
        self.prediction = PredictionLayer(needs.canvas, needs.actions["show_mask"], lambda: session.document)
        self._batch_dialog: QProgressDialog | None = None
        self._build_actions()
        self._connect()
        self._follow_controllers()
        needs.closing.add_guard(self._may_close)
        needs.closing.add_hook(self._stop)
        if session.project is not None:
            self.project_opened()

    # --- wiring ----------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        actions = self.needs.actions
        menu = actions.menu("Model")
        if "Help" in actions.menus:  # keep the dict in menu-bar order (Actions.menu inserts before Help)
            actions.menus["Help"] = actions.menus.pop("Help")
        for spec in ACTION_SPECS:
            menu.addAction(actions.add(spec))
            if spec.name in ("train_stop", "predict_all"):
                menu.addSeparator()
        actions["prediction_toggle"].setChecked(True)
        actions["train_stop"].setEnabled(False)

    def _connect(self) -> None:
        """The docks' and actions' events become calls."""
        a, s = self.needs.actions, self.needs.session
        td, md, rd, p = self.train_dock, self.models_dock, self.review_dock, self.prediction
        s.project_opened.connect(self.project_opened)
        s.models_changed.connect(md.refresh)  # trained or deleted in another window
        s.image_loaded.connect(lambda loaded: self.update_lut())
        self.needs.class_dock.visibility_changed.connect(lambda visible: self.update_lut())
        a["train_start"].triggered.connect(lambda: td.start())
        a["train_stop"].triggered.connect(lambda: td.stop())
        a["prediction_toggle"].toggled.connect(self.set_shown)
        a["prediction_view"].triggered.connect(self.cycle_view)
        a["prediction_accept"].triggered.connect(lambda: rd.request_accept())
        a["predict_all"].triggered.connect(self.predict_all)
        a["map_classes"].triggered.connect(self.map_classes)
        a["sort_uncertainty"].toggled.connect(rd.sort_box.setChecked)
        a["label_next"].triggered.connect(self.label_next)
        if md.pretrained is not None:
            md.pretrained.train_from.connect(lambda short: (td.set_model_source(short), td.raise_()))
            td.add_downloaded_models(md.pretrained.rows)  # the list the Models dock has just read
            md.pretrained.downloaded.connect(lambda: td.add_downloaded_models(md.pretrained.rows))
        rd.mode_changed.connect(self.set_view)
        rd.shown_changed.connect(a["prediction_toggle"].setChecked)
        rd.opacity_changed.connect(p.set_opacity)
        rd.accept_requested.connect(self.accept)
        rd.predict_all_requested.connect(self.predict_all)
        rd.sort_changed.connect(self._sort_toggled)
        rd.class_clicked.connect(self.highlight_class)
        p.changed.connect(lambda: rd.set_mode(p.mode))

    def _follow_controllers(self) -> None:
        """The controllers' events become pixels."""
        t, r = self.training, self.review
        t.starting.connect(lambda message: self._set_training(True))
        t.not_started.connect(lambda reason: self._set_training(False))
        t.finished.connect(self._training_finished)
        r.prediction_changed.connect(self._show_prediction)
        r.mask_edited.connect(self.prediction.mask_edited)
        r.status.connect(self.review_dock.set_status)
        r.metrics_changed.connect(self.review_dock.show_metrics)
        r.scores_changed.connect(self._show_scores)
        r.batch_progress.connect(self._batch_progress)
        r.batch_finished.connect(self._batch_finished)
        self.active_model.changed.connect(self._active_changed)

    def _may_close(self) -> bool:
        """Close guard: a training run asks first (the window stays open on "no", nothing stopped)."""
        return not self.training.running or dialogs.confirm(
            self.train_dock, "Training in progress",
            "A model is being trained. Stop the run and quit? The best checkpoint so far is kept.")

    def _stop(self) -> Future:
        """Close hook (the close is confirmed): the run and predict-all are asked to stop; the
        future completes once both have ended (the window closes then)."""
        self.train_dock.save_settings()
        return when_all([self.training.stop(), self.review.stop()])

    # --- project and images ----------------------------------------------------------------------
    @property
    def project(self):
        return self.needs.session.project

    @property
    def active(self) -> Path | None:
        return self.active_model.path

    def project_opened(self) -> None:
        project = self.project
        self.models_dock.set_project(project)
        self.models_dock.read_only = self.needs.session.read_only
        self.review_dock.set_classes(list(project.classes.names), [tuple(c) for c in project.classes.colours])
        self._active_changed(self.active)

    def update_lut(self) -> None:
        """The prediction layer uses the mask's class colours (and visibility)."""
        project = self.project
        if project is None:
            return
        lut = overlay.colour_lut(project.classes.colour_table()[: len(project.classes)],
                                 self.needs.class_dock.visible, 1.0)
        lut[IGNORE_INDEX, 3] = 0
        self.prediction.set_lut(lut)
        self.review_dock.set_classes(list(project.classes.names), [tuple(c) for c in project.classes.colours])

    def _show_prediction(self, shown: ShownPrediction | None) -> None:
        if shown is None:
            self.prediction.clear()
        else:
            self.prediction.set_labels(shown.labels)

    def _show_scores(self, scores: dict[int, float]) -> None:
        if self.project is not None:
            apply_to_file_dock(self.needs.file_dock, self.project, None, self.review_dock.sort_box.isChecked(), scores)

    # --- view ------------------------------------------------------------------------------------
    def set_view(self, mode: ViewMode) -> None:
        self.prediction.set_mode(mode)
        self.review_dock.set_mode(mode)

    def cycle_view(self) -> None:
        self.review_dock.set_mode(self.prediction.cycle_mode())
        self.needs.status(f"View: {self.prediction.mode.value}", 2000)

    def set_shown(self, shown: bool) -> None:
        self.prediction.set_shown(shown)
        self.review_dock.set_shown(shown)

    def highlight_class(self, class_index: int | None) -> None:
        name = self.project.classes.names[class_index] if class_index is not None else None
        self.prediction.set_highlight(class_index, name)
        self.review_dock.set_mode(ViewMode.ERRORS)
        self.needs.status(f"Error map: {name or 'all classes'}", 3000)

    def accept(self, mode: AcceptMode, class_index: int) -> None:
        """Accept the prediction (a gesture in progress is cancelled first)."""
        self.needs.tools.cancel()
        self.needs.status(self.review.accept(mode, class_index), 4000)

    # --- models ----------------------------------------------------------------------------------
    def _active_changed(self, path: Path | None) -> None:
        """The curves and the validation table follow the active model (the prediction and the
        file list follow it in the review controller)."""
        history = read_history(path) if path is not None and path.is_dir() else None
        self.train_dock.show_history(history, path)
        self.review_dock.set_validation(history)

    def map_classes(self) -> None:
        """Edit the project's aliases for the active model's classes; predictions follow at once."""
        project, active = self.project, self.active
        record = record_for(active, external=True) if active is not None else None
        parent = self.review_dock
        if project is None or record is None or not record.class_names:
            dialogs.info(parent, "Map model classes", "Choose an active model first (Models dock).")
            return
        chosen = class_alias_dialog.ask_class_aliases(parent, list(record.class_names),
                                                      list(project.classes.names), project_aliases(project))
        if chosen is None:
            return
        try:
            set_project_aliases(project, chosen)
        except (OSError, SegStudioError) as exc:
            dialogs.error(parent, "Map model classes", f"The mapping was not saved: {exc}")
            return
        self.active_model.announce()  # what the model's classes mean changed

    def _set_training(self, running: bool) -> None:
        self.needs.actions["train_start"].setEnabled(not running)
        self.needs.actions["train_stop"].setEnabled(running)

    def _training_finished(self, outcome: RunOutcome) -> None:
        self._set_training(False)
        self.models_dock.refresh()  # the new model is listed, active or not
        if outcome.activated is not None:
            self.models_dock.select_path(outcome.activated.resolve())

    # --- predict all, uncertainty ------------------------------------------------------------------
    def predict_all(self) -> None:
        refusal = self.review.predict_all()
        if refusal is not None:
            show = dialogs.error if refusal.error else dialogs.info
            show(self.review_dock, "Predict all", refusal.text)
            return
        batch = self.review.batch
        if batch is None:  # (ended at once: the window is closing)
            return
        dialog = QProgressDialog("Predicting…", "Cancel", 0, len(batch.image_paths), self.review_dock)
        dialog.setWindowTitle("Predict all unlabelled images")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.canceled.connect(self.review.cancel_batch)
        self._batch_dialog = dialog

    def _batch_progress(self, done: int, total: int, name: str) -> None:
        dialog = self._batch_dialog
        if dialog is not None:
            dialog.setValue(done)
            dialog.setLabelText(f"Predicting {name} ({done + 1} of {total})…" if name else "Done")

    def _batch_finished(self, outcome: BatchOutcome) -> None:
        dialog, self._batch_dialog = self._batch_dialog, None
        if dialog is not None:
            dialog.canceled.disconnect(self.review.cancel_batch)
            dialog.reset()
            dialog.deleteLater()
        self.needs.status(outcome.text, 10000)

    def label_next(self) -> None:
        """The least recently served of the most uncertain images nobody else edits (core.served)."""
        if not self.review_dock.sort_box.isChecked():
            self.needs.status("Label next follows the uncertainty sort: sort the files by uncertainty first", 8000)
            return
        if label_next(self.needs.session, self.needs.file_dock.displayed_indices()) is None:
            self.needs.status("Every one of the most uncertain images is being edited in another window", 8000)

    def _sort_toggled(self, sort: bool) -> None:
        action = self.needs.actions["sort_uncertainty"]
        if action.isChecked() != sort:
            action.setChecked(sort)
        self.review.refresh_scores()
