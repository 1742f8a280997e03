"""Train, predict and review inside the window: installs the docks, the prediction layer and actions.

Listed in ``app_window.PLUGINS``; :func:`install` builds one :class:`ModelFeatures` per window and
wires the pieces: the training dock (runs), the models dock (the active model), the prediction
service and layer (the current image, in the background), the review dock (metrics, accept,
predict-all, uncertainty sort) and, through the window's close sequence (gui.window.closing), a
guard that asks before a running training is stopped and a hook that stops it cleanly.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QProgressDialog

from segstudio.application.review.review_rules import project_aliases, set_project_aliases
from segstudio.application.training.model_registry import (
    active_model_path,
    read_history,
    record_for,
    replaces_active,
    set_active_model,
)
from segstudio.application.training.train_snapshot import remove_stale_snapshots
from segstudio.core import overlay
from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.canvas.predict_layer import AcceptMode, PredictionLayer, ViewMode
from segstudio.gui.docks.models_dock import ModelsDock
from segstudio.gui.docks.review_dock import ReviewDock
from segstudio.gui.docks.train_dock import TrainDock
from segstudio.gui.window import class_alias_dialog, dialogs
from segstudio.gui.window.actions import Spec
from segstudio.gui.workers.prediction_worker import BatchPrediction, PredictionService
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
    Spec("map_classes", "&Map model classes…",
         tip="Which project class each class of the active model counts as (e.g. a public checkpoint's)"),
]


class ModelFeatures(QObject):
    """Glue between the window and the model docks (owns no state the docks do not show)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.train_dock = TrainDock(window)
        self.models_dock = ModelsDock(window, pool=window.pools.pool("downloads"))
        self.review_dock = ReviewDock(window, pool=window.pools.pool("metrics"))
        # Tabbed with the file list: the canvas keeps its size; a dock can be dragged out at will.
        for dock in (self.train_dock, self.models_dock, self.review_dock):
            window.add_dock(dock)
            window.tabifyDockWidget(window.file_dock, dock)
        window.file_dock.raise_()
        self.service = PredictionService(self, pool=window.pools.pool("predict"))
        self.prediction = PredictionLayer(window)
        self.batch: BatchPrediction | None = None
        self._watched = None  # the document whose edits refresh the error map and metrics
        self.live_scores: dict[int, float] | None = None  # live mode's uncertainty, shown instead
        self._build_actions()
        self._connect()
        window.closing.add_guard(self._may_close)
        window.closing.add_hook(self._closed)
        if window.session.project is not None:
            self.project_opened()

    # --- wiring ----------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        actions = self.window.actions
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
        w, a, s = self.window, self.window.actions, self.window.session
        td, md, rd, p = self.train_dock, self.models_dock, self.review_dock, self.prediction
        s.project_opened.connect(self.project_opened)
        s.image_loaded.connect(self.image_loaded)
        s.loading_started.connect(lambda index: self._clear_prediction())
        s.entry_changed.connect(lambda index: self._refresh_sort())
        w.class_dock.visibility_changed.connect(lambda visible: self.update_lut())
        a["train_start"].triggered.connect(lambda: td.start())
        a["train_stop"].triggered.connect(td.stop)
        a["prediction_toggle"].toggled.connect(self.set_shown)
        a["prediction_view"].triggered.connect(self.cycle_view)
        a["prediction_accept"].triggered.connect(lambda: rd.request_accept())
        a["predict_all"].triggered.connect(self.predict_all)
        a["map_classes"].triggered.connect(self.map_classes)
        a["sort_uncertainty"].toggled.connect(rd.sort_box.setChecked)
        td.run_started.connect(lambda: self._set_training(True))
        td.run_finished.connect(self.training_finished)
        md.active_changed.connect(self.active_changed)
        md.pretrained.train_from.connect(lambda short: (td.set_model_source(short), td.raise_()))
        td.add_downloaded_models(md.pretrained.rows)  # the list the Models dock has just read
        md.pretrained.downloaded.connect(lambda: td.add_downloaded_models(md.pretrained.rows))
        self.service.ready.connect(self.prediction_ready)
        self.service.failed.connect(lambda message: rd.set_status(f"Prediction failed: {message}"))
        rd.mode_changed.connect(self.set_view)
        rd.shown_changed.connect(a["prediction_toggle"].setChecked)
        rd.opacity_changed.connect(p.set_opacity)
        rd.accept_requested.connect(self.accept)
        rd.predict_all_requested.connect(self.predict_all)
        rd.sort_changed.connect(self._sort_toggled)
        rd.class_clicked.connect(self.highlight_class)
        p.changed.connect(lambda: rd.set_mode(p.mode))

    def _may_close(self) -> bool:
        """Close guard: a training run asks first (the window stays open on "no", nothing stopped)."""
        return not self.train_dock.running or dialogs.confirm(
            self.window, "Training in progress",
            "A model is being trained. Stop the run and quit? The best checkpoint so far is kept.")

    def _closed(self) -> None:
        """Close hook (the close is confirmed): stop the batch and the run cleanly, then the services."""
        if self.batch is not None:
            self.batch.cancel()
            self.batch.wait(30000)
        if self.train_dock.running:
            self.train_dock.stop_and_wait()
        self.train_dock.save_settings()
        self.service.shutdown()
        self.review_dock.shutdown()

    # --- project and images ----------------------------------------------------------------------
    @property
    def project(self):
        return self.window.session.project

    @property
    def active(self) -> Path | None:
        return active_model_path(self.project)

    def project_opened(self) -> None:
        project = self.project
        read_only = self.window.session.read_only  # open in another window: its run may be live
        if not self.train_dock.running and not read_only:
            remove_stale_snapshots(project.save_dir)
        self.models_dock.set_project(project)
        self.models_dock.read_only = read_only
        self.review_dock.set_classes(list(project.classes.names), [tuple(c) for c in project.classes.colours])
        self.service.forget()
        self._clear_prediction()
        self.live_scores = None  # another project's live mode is over
        self.active_changed(self.active, predict=False)

    def update_lut(self) -> None:
        """The prediction layer uses the mask's class colours (and visibility)."""
        project = self.project
        if project is None:
            return
        lut = overlay.colour_lut(project.classes.colour_table()[: len(project.classes)],
                                 self.window.class_dock.visible, 1.0)
        lut[IGNORE_INDEX, 3] = 0
        self.prediction.set_lut(lut)
        self.review_dock.set_classes(list(project.classes.names), [tuple(c) for c in project.classes.colours])

    def image_loaded(self, loaded=None) -> None:
        document = self.window.session.document
        if self._watched is not None:
            self._watched.remove_listener(self._on_document_edit)
        self._watched = document
        if document is not None:
            document.add_listener(self._on_document_edit)
        self.update_lut()
        self.request_prediction()

    def _on_document_edit(self, rect) -> None:
        self.prediction.mask_edited()
        self._update_metrics()

    def _clear_prediction(self) -> None:
        self.service.cancel()
        self.prediction.clear()
        self.review_dock.update_image(None, None)

    def request_prediction(self) -> None:
        """Predict the image on screen with the active model (background; cached)."""
        entry, model = self.window.session.entry, self.active
        self._clear_prediction()
        if entry is None or model is None:
            self.review_dock.set_status("No active model: train one (Training dock) or load a checkpoint "
                                        "(Models dock)" if model is None else "")
            return
        self.review_dock.set_status(f"Predicting {entry.image_path.name} with {model.name}…")
        self.service.request(self.project.save_dir, model, entry.image_path,
                             store=not self.window.session.read_only)

    def prediction_ready(self, result) -> None:
        entry = self.window.session.entry
        if entry is None or entry.image_path != result.image_path or self.project is None:
            return
        self.prediction.set_prediction(result, self.project)
        self.review_dock.set_status(f"{result.model_path.name}: uncertainty {result.score:.2f} "
                                    "(0 = sure, 1 = guessing)")
        self._update_metrics()
        self._refresh_sort()

    def _update_metrics(self) -> None:
        document = self.window.session.document
        self.review_dock.update_image(document.label if document is not None else None,
                                      self.prediction.labels if self.prediction.available else None)

    # --- view ------------------------------------------------------------------------------------
    def set_view(self, mode: ViewMode) -> None:
        self.prediction.set_mode(mode)
        self.review_dock.set_mode(mode)

    def cycle_view(self) -> None:
        self.review_dock.set_mode(self.prediction.cycle_mode())
        self.window.statusBar().showMessage(f"View: {self.prediction.mode.value}", 2000)

    def set_shown(self, shown: bool) -> None:
        self.prediction.set_shown(shown)
        self.review_dock.set_shown(shown)

    def highlight_class(self, class_index) -> None:
        name = self.project.classes.names[class_index] if class_index is not None else None
        self.prediction.set_highlight(class_index, name)
        self.review_dock.set_mode(ViewMode.ERRORS)
        name = name or "all classes"
        self.window.statusBar().showMessage(f"Error map: {name}", 3000)

    def accept(self, mode: AcceptMode, class_index: int) -> None:
        if not self.prediction.available:
            self.window.statusBar().showMessage("No prediction for this image to accept", 3000)
            return
        if self.window.session.read_only:
            self.window.statusBar().showMessage(f"The project is {self.window.session.read_only}: "
                                                "nothing is accepted in this window", 5000)
            return
        if self.prediction.accept(mode, class_index):
            self.window.statusBar().showMessage(f"Prediction accepted ({mode.value}); Ctrl+Z undoes it", 4000)
        else:
            self.window.statusBar().showMessage("The prediction changes nothing here", 3000)

    # --- models ----------------------------------------------------------------------------------
    def active_changed(self, path: Path | None, predict: bool = True) -> None:
        self.train_dock.active_model = path
        history = read_history(path) if path is not None and path.is_dir() else None
        self.train_dock.show_history(history)
        self.review_dock.set_validation(history)
        self._refresh_sort()
        if predict:
            self.service.forget()
            self.request_prediction()

    def map_classes(self) -> None:
        """Edit the project's aliases for the active model's classes; predictions follow at once."""
        project, active = self.project, self.active
        record = record_for(active, external=True) if active is not None else None
        if project is None or record is None or not record.class_names:
            dialogs.info(self.window, "Map model classes", "Choose an active model first (Models dock).")
            return
        chosen = class_alias_dialog.ask_class_aliases(self.window, list(record.class_names),
                                                      list(project.classes.names), project_aliases(project))
        if chosen is None:
            return
        try:
            set_project_aliases(project, chosen)
        except (OSError, SegStudioError) as exc:
            dialogs.error(self.window, "Map model classes", f"The mapping was not saved: {exc}")
            return
        self.active_changed(active)

    def _set_training(self, running: bool) -> None:
        self.window.actions["train_start"].setEnabled(not running)
        self.window.actions["train_stop"].setEnabled(running)

    def training_finished(self, result) -> None:
        self._set_training(False)
        if self.project is None:
            return
        folder = result.model_dir
        save_dir = Path(self.project.save_dir).resolve()
        inside = folder is not None and Path(folder).resolve().is_relative_to(save_dir)
        new = record_for(Path(folder)) if inside else None
        active = record_for(self.active) if self.active is not None else None
        replace, why = replaces_active(new, active)
        if why and new is not None:
            self.train_dock.show_message(f"{self.train_dock.message.text()}\n{why}")
        if replace:
            set_active_model(self.project, Path(folder))
            self.models_dock.refresh()
            self.models_dock.select_path(Path(folder).resolve())
            self.service.forget()
            self.active_changed(self.active)
        else:
            self.models_dock.refresh()

    # --- predict all, uncertainty ------------------------------------------------------------------
    def predict_all(self) -> None:
        project, model = self.project, self.active
        if self.window.session.read_only:  # its only product is the prediction cache, on disk
            dialogs.error(self.window, "Predict all", f"The project is {self.window.session.read_only}.")
            return
        if project is None or model is None or self.batch is not None:
            if model is None:
                dialogs.info(self.window, "Predict all", "Choose an active model first (Models dock).")
            return
        paths = [e.image_path for e in project.entries if not project.is_labelled(e)]
        if not paths:
            dialogs.info(self.window, "Predict all", "Every image has a mask already.")
            return
        dialog = QProgressDialog("Predicting…", "Cancel", 0, len(paths), self.window)
        dialog.setWindowTitle("Predict all unlabelled images")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        self.batch = BatchPrediction(self.service.runner, project.save_dir, model, paths, self,
                                     pool=self.window.pools.pool("predict-all"))
        self.batch.progress.connect(lambda done, total, name: (dialog.setValue(done), dialog.setLabelText(
            f"Predicting {name} ({done + 1} of {total})…" if name else "Done")))
        dialog.canceled.connect(self.batch.cancel)
        self.batch.finished_batch.connect(lambda done, error: self._batch_finished(dialog, done, error))
        self.batch.start()

    def _batch_finished(self, dialog: QProgressDialog, done: int, error: str) -> None:
        batch, self.batch = self.batch, None
        if batch is not None:
            batch.wait()
            batch.deleteLater()
        dialog.reset()
        dialog.deleteLater()
        self._refresh_sort()
        message = f"{done} image(s) predicted; the file list shows how unsure the model is"
        if error:
            message += f" — last problem: {error}"
        self.window.statusBar().showMessage(message, 10000)

    def _sort_toggled(self, sort: bool) -> None:
        action = self.window.actions["sort_uncertainty"]
        if action.isChecked() != sort:
            action.setChecked(sort)
        self._refresh_sort()

    def set_live_scores(self, scores: dict[int, float] | None) -> None:
        """Show (and sort by) live mode's scores, by entry index; None: the active model's again."""
        self.live_scores = scores
        self._refresh_sort()

    def _refresh_sort(self) -> None:
        if self.project is None:
            return
        apply_to_file_dock(self.window.file_dock, self.project, self.active,
                           self.review_dock.sort_box.isChecked(), self.live_scores)


def install(window) -> ModelFeatures:
    window.model_features = ModelFeatures(window)
    return window.model_features
