"""Model > Live training: the model keeps learning while you paint, and its prediction follows.

While the toggle is on, cycles of :class:`segstudio.application.live.live_session.LiveSession` run one
after another on the window's "live" pool: a short burst of training on the labelled images and
the strokes on screen, then a prediction of the image on screen, shown like any prediction
(overlay, error map, review, accept). Each cycle also scores one other image: the file list
shows (and, sorted by uncertainty, follows) the live model's doubt. A stroke in progress stops
the burst at once, so painting always has the CPU. Turning live mode off saves the model as an ordinary model folder
(``models/live-<date>``) and makes it the active model.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QTimer

from segstudio.application.live.live_session import LiveSession
from segstudio.application.live.scribbles import set_scribbles, unpainted_value
from segstudio.application.review.model_runner import PredictionResult
from segstudio.application.torch_loading import import_torch
from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX
from segstudio.gui.window import dialogs
from segstudio.gui.window.actions import Spec

PAUSE_MS = 30  # between cycles: lets queued GUI work run first
LIVE_SIZE = 256


class LiveFeatures:
    """The live-training toggle of one window."""

    def __init__(self, window) -> None:
        self.window = window
        self.pool = window.pools.pool("live")
        self.session: LiveSession | None = None
        self.future: Future | None = None
        self.saving: Future | None = None  # the kept model being written, until the window heard of it
        self.on = False
        action = window.actions.add(Spec("live_training", "&Live training", ("Ctrl+L",), checkable=True,
                                         tip="Keep training while you paint; the prediction follows"))
        window.actions.menu("Model").addAction(action)
        action.toggled.connect(self.set_live)
        self.action = action
        window.closing.add_hook(self._closed)
        window.session.project_opened.connect(self._project_opened)
        self.scribbles = window.actions.add(Spec(
            "scribbles", "Unpainted pixels are &unlabelled (scribbles)", checkable=True,
            tip="New masks start unlabelled (255) instead of background: a few strokes per class teach "
                "live training; the eraser un-paints"))
        window.actions.menu("Edit").addAction(self.scribbles)
        self.scribbles.toggled.connect(self.set_scribbles)

    # --- scribbles -------------------------------------------------------------------------------
    def _project_opened(self) -> None:
        self.action.setChecked(False)
        project = self.window.session.project
        on = project is not None and unpainted_value(project) == IGNORE_INDEX
        self.scribbles.blockSignals(True)  # showing the setting is not changing it
        self.scribbles.setChecked(on)
        self.scribbles.blockSignals(False)
        self.window.tools.unpainted = IGNORE_INDEX if on else 0

    def set_scribbles(self, on: bool) -> None:
        """Turn the project into a scribble project (or back); images opened from now on follow."""
        project = self.window.session.project
        if project is None or self.window.session.read_only:
            self._project_opened()
            return
        try:
            set_scribbles(project, on)
        except (OSError, SegStudioError) as exc:
            dialogs.error(self.window, "Scribbles", f"The setting was not saved: {exc}")
            return
        self.window.tools.unpainted = IGNORE_INDEX if on else 0
        self.window.session.discard_prefetched()
        self.window.update_lut()
        self._status("Scribbles: unpainted pixels are unlabelled in images without a mask" if on
                     else "Unpainted pixels are background again in images without a mask")

    # --- the toggle ------------------------------------------------------------------------------
    def set_live(self, on: bool) -> None:
        if on == self.on:
            return
        if on and not self._can_start():
            self.action.setChecked(False)
            return
        self.on = on
        if on:
            project = self.window.session.project
            names = list(project.classes.names)
            init = self.window.model_features.train_dock.model_source()
            init = "auto" if init.startswith("@") else init
            self.session = LiveSession(project, lambda: _make_trainer(names, init, project.save_dir))
            self._status("Live training: starting (the first cycle loads the model)…")
            self._next()
        elif self.future is None or self.future.done():
            self._finish()

    def _can_start(self) -> bool:
        session = self.window.session
        if session.project is None or session.document is None:
            dialogs.info(self.window, "Live training", "Open a folder and an image first.")
            return False
        if session.read_only:
            dialogs.error(self.window, "Live training", f"The project is {session.read_only}.")
            return False
        return True

    # --- cycles ----------------------------------------------------------------------------------
    def _next(self) -> None:
        if not self.on or self.session is None:
            return
        session = self.window.session
        document, current = session.document, session.current
        rgb = document.image if document is not None else None
        label = document.label.copy() if document is not None else None
        path = current.entry.image_path if current is not None else None
        tools, live = self.window.tools, self.session
        self.future = self.pool.submit(live.cycle, path, rgb, label, lambda: not self.on or tools.busy,
                                       on_done=lambda f: self._done(f, path, live))

    def _done(self, future: Future, path: Path | None, live: LiveSession) -> None:
        if future.cancelled() or live is not self.session:
            return  # live mode was turned off (and its model kept) while this answer was on its way
        error = future.exception()
        if error is not None:
            self.on = False
            self.action.setChecked(False)
            dialogs.error(self.window, "Live training stopped", str(error))
            return
        result = future.result()
        trainer = self.session.trainer
        features = self.window.model_features
        if result.scored is not None and self.on:  # (off: the project may have changed meanwhile)
            features.set_live_scores(live.scores_by_index())
        if result.labels is not None and path is not None:
            features.prediction_ready(PredictionResult(
                path, Path("live model"), result.labels, 0.0, list(trainer.info.class_names)))
        loss = "—" if result.loss != result.loss else f"{result.loss:.3f}"
        self._status(f"Live training: step {trainer.steps}, loss {loss} ({result.seconds:.1f} s a cycle)")
        if self.on:
            QTimer.singleShot(PAUSE_MS, self._next)
        else:
            self._finish()

    def _finish(self, activate: bool = True) -> None:
        """Live mode ended: keep the model as a normal model folder and make it the active one.

        The model is written on the worker (a few hundred ms of safetensors and scores that would
        otherwise hold the window), then made active here; ``activate`` False (the window is
        closing) writes it at once and activates nothing."""
        session, self.session = self.session, None
        if session is None:
            return
        if activate:  # the list shows the active model's scores again (the saved model's, below)
            self.window.model_features.set_live_scores(None)
        name = f"live-{time.strftime('%Y%m%d-%H%M%S')}"  # models/<name>, made by the session
        if not activate:  # the window is closing: write it now, and say so if that fails
            try:
                session.save(name)
            except (OSError, SegStudioError) as exc:
                self._not_saved(exc)
            return
        self._status("Live training off: keeping the model…")
        self.saving = self.pool.submit(session.save, name,  # with the live scores, in its cache
                                       on_done=lambda future: self._kept(session.project, future))

    def _kept(self, project, future: Future) -> None:
        """The live model is written (or not): say so, and make it the active model."""
        if self.saving is future:
            self.saving = None
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or error is not None:
            self._not_saved(error or "the window is closing")
            return
        saved = future.result()
        if saved is None:
            self._status("Live training off (nothing learnt yet)")
            return
        if self.window.session.project is not project:  # another folder was opened meanwhile
            self._status(f"Live training off: the model is kept as {saved.name} in {project.save_dir}")
            return
        models = self.window.model_features.models_dock
        models.refresh()
        models.set_active(saved)
        self._status(f"Live training off: the model is kept as {saved.name} (now the active model)")

    def _not_saved(self, reason) -> None:
        dialogs.error(self.window, "Live training", f"The live model was not saved: {reason}")

    def _closed(self) -> None:
        """Close hook: stop the burst, wait for it and for a model still being written, keep the model."""
        self.on = False
        for future in (self.future, self.saving):
            if future is not None:
                try:
                    future.result(timeout=60)
                except Exception:  # noqa: BLE001 - the window is closing: keep what can be kept
                    pass
        self._finish(activate=False)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 15000)


def _make_trainer(names, init, save_dir):  # on the worker: torch loads here, not on the GUI thread
    import_torch()
    import torch

    from segstudio.model.live import LiveTrainer

    torch.set_num_threads(1)  # the other core stays with the painting
    return LiveTrainer(names, init=init, size=LIVE_SIZE, save_dir=save_dir)


def install(window) -> LiveFeatures:
    """Add Model > Live training to ``window`` (see ``MainWindow.PLUGINS``)."""
    window.live_features = LiveFeatures(window)
    return window.live_features
