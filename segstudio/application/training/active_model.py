"""The project's active model as one object: read from project.json, changed in one place, announced.

Why: a training run, live mode's end, the Models dock's Use and Delete, and the class mapping all
change which model predicts; each used to write the setting itself and tell the others through
the window. Here the change is refused in one place (no project, a read-only window) and announced
once (``changed``): predictions, the review, the models list and the training curves follow it.
"""

from __future__ import annotations

from pathlib import Path

from psygnal import Signal

from segstudio.application.session.controller import ProjectSession
from segstudio.application.training.model_registry import active_model_path, set_active_model
from segstudio.core.errors import SegStudioError


class ActiveModel:
    """The active model of the session's project (``path``; None when unset or deleted since)."""

    changed = Signal(object)  # Path | None: the model that predicts now

    def __init__(self, session: ProjectSession) -> None:
        self._session = session

    @property
    def path(self) -> Path | None:
        return active_model_path(self._session.project)

    def set(self, path: Path | None) -> None:
        """Make ``path`` the active model (None: none) and announce it.

        Raises :class:`SegStudioError` without a project or in a read-only window (the setting is in
        project.json, which that window never writes), OSError when project.json cannot be written.
        """
        project = self._session.project
        if project is None:
            raise SegStudioError("open a folder first")
        if self._session.read_only:
            raise SegStudioError(f"the project is {self._session.read_only}; models cannot be changed here")
        set_active_model(project, path)
        self.changed.emit(self.path)

    def announce(self) -> None:
        """Say the active model again: it was deleted, or what it predicts means something else now
        (the class mapping changed), so everything shown from it is stale."""
        self.changed.emit(self.path)
