"""Edit ▸ Your name in shared folders: who this window's claims name, kept in the user's settings.

In a folder shared by a team, an image another window edits shows "taken by NAME". The name comes
from here when set, else from ``SEGSTUDIO_PERSON``, else the OS user name (often "user" or a login
that says nothing to colleagues), so the window lets each person say it once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from segstudio.application.session.controller import ProjectSession
from segstudio.gui.window import dialogs
from segstudio.gui.window.settings import Settings

SETTING = "team/person"


def apply_saved(session: ProjectSession, settings: Settings) -> None:
    """At start: the name chosen in an earlier run, if any."""
    saved = settings.get_str(SETTING).strip()
    if saved:
        session.set_person(saved)


def ask_person(parent: QWidget, session: ProjectSession, settings: Settings, say: Callable[[str], None]) -> None:
    """Ask for the name (prefilled with the one in use); keep it and say from when it applies."""
    current = session.person_shown
    typed = dialogs.ask_text(parent, "Your name in shared folders",
                             "Shown to others when you edit an image in a shared folder:", current)
    if typed is None:
        return
    shown = session.set_person(typed)
    settings.set(SETTING, shown)
    say(f"Others now see images you open as taken by {shown}")
