"""Model > Live training, Update model now, Retrain when a mask is saved, and Edit > Scribbles: the
window's side of live mode.

Live mode itself is :class:`~segstudio.application.live.controller.LiveController`'s: its cycles,
the refusal while a training run goes (it asks the TrainingController), and the model kept when it
ends (``models/live-<date>``, written on a worker and made active). This part turns the toggle into
its calls and its events into the window: each cycle's prediction goes to the ReviewController
(shown like any prediction: overlay, error map, review, accept) with the live uncertainty scores
(the file list follows them), a failure becomes a dialog, the status bar says what it does. The
window's close asks the controller to stop and follows its future.

It is given what it uses (:class:`LiveNeeds`), never the window; :func:`install` builds it from the
window until the window assembles its parts itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from segstudio.application.live.controller import LiveController, LiveCycle, LiveKept
from segstudio.application.live.retrain_on_save import RetrainOnSave, retrains_on_save, set_retrain_on_save
from segstudio.application.live.scribbles import set_scribbles, unpainted_value
from segstudio.application.pools import Pools, TimerFactory
from segstudio.application.review.controller import ReviewController
from segstudio.application.session.controller import ProjectSession
from segstudio.application.training.active_model import ActiveModel
from segstudio.application.training.controller import TrainingController
from segstudio.core.errors import SegStudioError
from segstudio.core.palette import IGNORE_INDEX
from segstudio.core.project import Project
from segstudio.gui.window import dialogs
from segstudio.gui.window.actions import Spec
from segstudio.gui.window.parts import ActionHost, CloseHooks, StatusFn, ToolState


@dataclass(frozen=True)
class LiveNeeds:
    """What the live part uses of the window and of the other parts' controllers."""

    session: ProjectSession
    pools: Pools
    timer: TimerFactory
    actions: ActionHost
    tools: ToolState
    closing: CloseHooks
    training: TrainingController
    review: ReviewController
    active: ActiveModel
    update_lut: Callable[[], None]  # the mask colours (a scribble project's unpainted pixels show the photo)
    status: StatusFn
    dialog_parent: QWidget


class LiveFeatures:
    """The live-training toggle and the scribbles setting of one window."""

    def __init__(self, needs: LiveNeeds) -> None:
        self.needs = needs
        tools = needs.tools
        self.live = LiveController(needs.session, needs.pools, needs.timer, needs.training, needs.active,
                                   busy=lambda: tools.busy)
        self.action = needs.actions.add(Spec("live_training", "&Live training", ("Ctrl+L",), checkable=True,
                                             tip="Keep training while you paint; the prediction follows"))
        needs.actions.menu("Model").addAction(self.action)
        self.action.toggled.connect(self.set_live)
        self.update_now = needs.actions.add(Spec(
            "update_model", "&Update model now", ("Ctrl+Shift+L",),
            tip="Train the model a short burst on the labels so far (from the active model), then keep it"))
        needs.actions.menu("Model").addAction(self.update_now)
        self.update_now.triggered.connect(self.update_once)
        self.retrain = RetrainOnSave(needs.session, self.live)
        self.retrain.status.connect(lambda text: self.needs.status(text, 15000))
        self.retrain_action = needs.actions.add(Spec(
            "retrain_on_save", "&Retrain when a mask is saved", checkable=True,
            tip="Each time you move on from an image, its saved mask updates the model (this project)"))
        needs.actions.menu("Model").addAction(self.retrain_action)
        self.retrain_action.toggled.connect(self.set_retrain_on_save)
        self.scribbles = needs.actions.add(Spec(
            "scribbles", "Unpainted pixels are &unlabelled (scribbles)", checkable=True,
            tip="New masks start unlabelled (255) instead of background: a few strokes per class teach "
                "live training; the eraser un-paints"))
        needs.actions.menu("Edit").addAction(self.scribbles)
        self.scribbles.toggled.connect(self.set_scribbles)
        needs.session.project_opened.connect(self._show_scribbles)
        needs.session.project_opened.connect(self._show_retrain)
        needs.closing.add_hook(self.live.stop)
        self._follow(self.live)

    def _follow(self, live: LiveController) -> None:
        parent = self.needs.dialog_parent
        live.switched.connect(self._switched)
        live.cycle_done.connect(self._cycle_done)
        live.status.connect(lambda text: self.needs.status(text, 15000))
        live.kept.connect(self._kept)
        live.failed.connect(lambda message: dialogs.error(parent, "Live training stopped", message))
        live.not_kept.connect(lambda reason: dialogs.error(parent, "Live training", reason))

    # --- the toggle ------------------------------------------------------------------------------
    def set_live(self, on: bool) -> None:
        if not on:
            self.live.switch_off()
            return
        refusal = self.live.start()
        if refusal is not None:
            self._check(False)
            show = dialogs.error if refusal.error else dialogs.info
            show(self.needs.dialog_parent, "Live training", refusal.text)

    def update_once(self) -> None:
        """Model > Update model now: a bounded burst on a worker, then the model is kept (active)."""
        refusal = self.live.update_once()
        if refusal is not None:
            show = dialogs.error if refusal.error else dialogs.info
            show(self.needs.dialog_parent, "Update model", refusal.text)
        elif self.live.updating is None:
            self.needs.status("Live training is on: the model updates as you paint", 15000)

    def _check(self, on: bool) -> None:
        """Show live mode's state on the toggle (showing it is not asking for it)."""
        self.action.blockSignals(True)
        self.action.setChecked(on)
        self.action.blockSignals(False)

    def _switched(self, on: bool) -> None:
        self._check(on)
        if not on:  # the list shows the active model's scores again (the kept model's, once active)
            self.needs.review.set_live_scores(None)

    def _cycle_done(self, cycle: LiveCycle) -> None:
        review = self.needs.review
        if cycle.scores is not None:
            review.set_live_scores(cycle.scores)
        if cycle.labels is not None and cycle.image_path is not None:
            review.show_live(cycle.image_path, cycle.labels, list(cycle.class_names))

    def _kept(self, kept: LiveKept) -> None:
        self.needs.status(kept.text, 15000)

    # --- retrain when a mask is saved --------------------------------------------------------------
    def _show_retrain(self) -> None:
        session = self.needs.session
        self.retrain_action.blockSignals(True)  # showing the setting is not changing it
        self.retrain_action.setChecked(retrains_on_save(session.project))
        self.retrain_action.setEnabled(session.project is not None and not session.read_only)
        self.retrain_action.blockSignals(False)

    def _keep_setting(self, title: str, save: Callable[[Project], None], show: Callable[[], None]) -> bool:
        """Write a project setting the user toggled; False, with the toggle shown as the project
        keeps it, when there is no project, the window is read-only or the write failed (said)."""
        session = self.needs.session
        project = session.project
        if project is None or session.read_only:
            show()
            return False
        try:
            save(project)
        except (OSError, SegStudioError) as exc:
            dialogs.error(self.needs.dialog_parent, title, f"The setting was not saved: {exc}")
            show()
            return False
        return True

    def set_retrain_on_save(self, on: bool) -> None:
        """Keep the choice in the project (a read-only window never writes it)."""
        if not self._keep_setting("Retrain when a mask is saved", lambda project: set_retrain_on_save(project, on),
                                  self._show_retrain):
            return
        self.needs.status("The model is updated each time you move on from a saved image" if on
                          else "The model is updated only when you ask", 15000)

    # --- scribbles -------------------------------------------------------------------------------
    def _show_scribbles(self) -> None:
        project = self.needs.session.project
        on = project is not None and unpainted_value(project) == IGNORE_INDEX
        self.scribbles.blockSignals(True)  # showing the setting is not changing it
        self.scribbles.setChecked(on)
        self.scribbles.blockSignals(False)
        self.needs.tools.unpainted = IGNORE_INDEX if on else 0

    def set_scribbles(self, on: bool) -> None:
        """Turn the project into a scribble project (or back); images opened from now on follow."""
        if not self._keep_setting("Scribbles", lambda project: set_scribbles(project, on), self._show_scribbles):
            return
        self.needs.tools.unpainted = IGNORE_INDEX if on else 0
        self.needs.session.discard_prefetched()
        self.needs.update_lut()
        self.needs.status("Scribbles: unpainted pixels are unlabelled in images without a mask" if on
                          else "Unpainted pixels are background again in images without a mask", 15000)
