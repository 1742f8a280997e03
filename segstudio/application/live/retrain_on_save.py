"""A project setting: retrain the model when a mask is saved (MONAI Label users asked to control it).

With it on, each mask written for an image the user has moved on from starts a one-shot update
(:meth:`~.controller.LiveController.update_once`: a bounded burst from the active model, kept and
made active, never blocking the window). Autosave writes the image on screen every few seconds while
painting: those writes do not count, the image is not done yet. One update at a time: a save during
an update asks for one more once it has ended. The setting is kept in the project's ``project.json``.

Each update is an ordinary model folder, so with the setting on a day of labelling would leave
hundreds of them (15 MB each for B0). The models this setting made are listed in ``project.json``
and only the last :data:`KEEP_RETRAINED` of them are kept: an older one is deleted once a newer one
is written, unless it is the active model. Models the user made (a run, live mode, "Update model
now") are never touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from psygnal import Signal

from segstudio.application.live.controller import LiveController, LiveKept
from segstudio.application.session.controller import ProjectSession
from segstudio.application.training.model_registry import ModelRecord, active_model_path, delete_model
from segstudio.core.errors import SegStudioError
from segstudio.core.paths import MODELS_FOLDER
from segstudio.core.project import Project

RETRAIN_KEY = "retrain_on_save"
MADE_KEY = "retrained_models"  # the folders (names in models/) this setting made, oldest first
KEEP_RETRAINED = 3
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


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
        self._started = False  # the update running now was started here
        live.kept.connect(self._kept)
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

    def _kept(self, kept: LiveKept) -> None:
        if self._started and kept.folder is not None and self._session.project is not None:
            self._started = False
            removed = prune_retrained(self._session.project, kept.folder)
            if removed:
                self.status.emit(f"Model updated; {len(removed)} older automatic update(s) removed "
                                 f"(the last {KEEP_RETRAINED} are kept)")
        self._again()

    def _again(self) -> None:
        if self.pending and not self._live.on:
            self.pending = False
            self._start()

    def _start(self) -> None:
        refusal = self._live.update_once()
        self._started = refusal is None
        if refusal is not None:
            self.status.emit(f"The model was not retrained: {refusal.text}")
        else:
            self.status.emit("A mask was saved: updating the model…")


def prune_retrained(project: Project, made: Path) -> list[str]:
    """Record ``made`` as a model this setting wrote and delete the older ones beyond the last
    :data:`KEEP_RETRAINED` (never the active model; a name project.json lists that is not a plain
    folder name is dropped from the list, never followed). Answers the names deleted."""
    listed = project.settings.get(MADE_KEY)
    names = [n for n in listed if isinstance(n, str) and _FOLDER_NAME.fullmatch(n)] if isinstance(listed, list) else []
    names = [n for n in names if n != made.name] + [made.name]
    models = Path(project.save_dir) / MODELS_FOLDER
    active = active_model_path(project)
    removed: list[str] = []
    keep: list[str] = []
    for name in names[:-KEEP_RETRAINED]:
        folder = models / name
        if active is not None and Path(active).resolve() == folder.resolve():
            keep.append(name)
            continue
        try:
            if folder.is_dir():
                delete_model(project, ModelRecord(name=name, path=folder))
            removed.append(name)
        except (OSError, SegStudioError):
            keep.append(name)  # a link or a folder that cannot go: left where it is, tried again later
    project.settings[MADE_KEY] = keep + names[-KEEP_RETRAINED:]
    try:
        project.save_settings()
    except (OSError, SegStudioError):
        pass  # the list is a convenience: the next update writes it again
    return removed
