"""A project setting: retrain the model when a mask is saved (MONAI Label users asked to control it).

With it on, each mask written for an image the user has moved on from starts a one-shot update
(:meth:`~.controller.LiveController.update_once`: a bounded burst from the active model, kept and
made active, never blocking the window). Autosave writes the image on screen every few seconds while
painting: those writes do not count, the image is not done yet. One update at a time: a save during
an update asks for one more once it has ended. The setting is kept in the project's ``project.json``.
"""

from __future__ import annotations

from psygnal import Signal

from segstudio.application.live.controller import LiveController
from segstudio.application.session.controller import ProjectSession
from segstudio.core.project import Project

RETRAIN_KEY = "retrain_on_save"


def retrains_on_save(project: Project | None) -> bool:
    """Whether ``project`` retrains its model when a mask is saved (off unless chosen)."""
    settings = getattr(project, "settings", None) or {}
    return bool(settings.get(RETRAIN_KEY, False))


def set_retrain_on_save(project: Project, on: bool) -> None:
    """Keep the choice in the project's settings (raises OSError when it cannot be written)."""
    project.settings[RETRAIN_KEY] = bool(on)
    project.save_settings()


class RetrainOnSave:
    """Starts a one-shot update when a finished image's mask is saved, in a project that asks for it."""

    status = Signal(str)  # what it did or why not

    def __init__(self, session: ProjectSession, live: LiveController) -> None:
        self._session = session
        self._live = live
        self.pending = False  # a mask was saved during an update: one more once it has ended
        session.mask_saved.connect(self._saved)
        session.project_opened.connect(self._forget)
        live.kept.connect(lambda _kept: self._again())
        live.not_kept.connect(lambda _why: self._again())

    def _forget(self) -> None:
        self.pending = False

    def _saved(self, index: int) -> None:
        session = self._session
        if session.read_only or not retrains_on_save(session.project) or index == session.index:
            return  # the image on screen is being painted: its autosaves are not "done"
        live = self._live
        if live.on and live.updating is None:
            return  # live mode learns all the time already
        if live.on or live.learning is not None or live.saving is not None:
            self.pending = True
            return
        self._start()

    def _again(self) -> None:
        if self.pending and not self._live.on:
            self.pending = False
            self._start()

    def _start(self) -> None:
        refusal = self._live.update_once()
        if refusal is not None:
            self.status.emit(f"The model was not retrained: {refusal.text}")
        else:
            self.status.emit("A mask was saved: updating the model…")
