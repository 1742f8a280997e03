"""Scribbles: a project where unpainted pixels mean "not labelled yet" instead of "background".

Live training learns from a few strokes per class; if every unpainted pixel counted as background,
the model would learn that almost everything is background. In a scribble project (a setting kept
in its ``project.json``, toggled in *Edit*) a new mask starts at the ignore value 255, the eraser
gives pixels back to "unpainted" (255), training and scores ignore them, and accepting a
prediction "only where unlabelled" fills exactly those pixels.
"""

from __future__ import annotations

from segstudio.core.palette import IGNORE_INDEX
from segstudio.core.project import Project

UNPAINTED_KEY = "unpainted"


def unpainted_value(project: Project | None) -> int:
    """The label of a pixel nobody painted: 0 (background) or, in a scribble project, 255."""
    settings = getattr(project, "settings", None) or {}
    return IGNORE_INDEX if settings.get(UNPAINTED_KEY) == "unlabelled" else 0


def set_scribbles(project: Project, on: bool) -> None:
    """Make ``project`` a scribble project (or not) and keep the choice in its settings."""
    project.settings[UNPAINTED_KEY] = "unlabelled" if on else "background"
    project.save_settings()
