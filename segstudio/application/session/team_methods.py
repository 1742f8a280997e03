"""The team half of :class:`~segstudio.application.session.controller.ProjectSession`'s methods, which
the session inherits: who this window is, who else edits what, and the project-wide changes that
must wait for them. The work is done in :mod:`.team_session`; these are the names a window calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np

from segstudio.application.session import team_session
from segstudio.application.session.session_parts import SessionParts
from segstudio.application.session.teamwork import Teamwork
from segstudio.core import project_lock
from segstudio.core.claims import clean_text, default_person
from segstudio.core.classes import ClassList


class TeamMethods:
    """Mixed into ProjectSession, which sets ``person`` and ``_team``."""

    person: str | None  # who this window's claims name (None: the OS user)
    _team: Teamwork

    def set_person(self, name: str | None) -> str:
        """Who this window's claims name from now on (None or blank: the default of
        ``core.claims.default_person``); the name as it will be shown."""
        self.person = clean_text(name or "") or None
        self._team.rename(self.person_shown)
        return self.person_shown

    @property
    def person_shown(self) -> str:
        """The name this window's claims carry (the default when none was chosen)."""
        return self.person or default_person()

    def claimed_by_others(self: SessionParts) -> dict[int, str]:
        """Who edits which image in another window, as last seen: {entry index: "alice since 10:42"}."""
        return team_session.claimed_by_others(self)

    def taken_indices(self: SessionParts) -> set[int]:
        """The images another window edits now (A/D skip them)."""
        return set(team_session.claimed_by_others(self))

    def others_editing(self: SessionParts) -> str | None:
        """Why a change of the whole project is refused now (others edit images, as last seen)."""
        return team_session.others_editing(self)

    def take_project(self: SessionParts, what: str) -> project_lock.ProjectLock:
        """The project lock for a change of the whole project (give it back: :meth:`let_project_go`)."""
        return team_session.take_project(self, what)

    def let_project_go(self: SessionParts, lock: project_lock.ProjectLock) -> None:
        team_session.let_project_go(self, lock)

    def project_wide(self: SessionParts, what: str) -> contextlib.AbstractContextManager[None]:
        """Hold the project lock while a quick change of the whole project runs (adding a class)."""
        return team_session.project_wide(self, what)

    def reopen_here(self: SessionParts) -> None:
        """Read the project again (its class list changed elsewhere) and show the same image."""
        team_session.reopen_here(self)

    def rewrite_classes(self: SessionParts, classes: ClassList, lut: np.ndarray, done: Callable[[str | None], None],
                        progress: Callable[[int, int], None] | None = None,
                        should_stop: Callable[[], bool] | None = None) -> None:
        """Make ``classes`` the project's class list, rewriting every mask (see
        ``team_session.rewrite_classes``: refused while others edit images)."""
        team_session.rewrite_classes(self, classes, lut, done, progress, should_stop)
