"""What the window lends to a feature it installs: a narrow, typed set of collaborators.

A feature (assisted tools, datasets, model, live training) is built by the window's assembly with
these, and keeps only them: it never looks anything up through the window, so what it depends on
is visible here and a feature can be built in a test without a ``MainWindow``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from segstudio.application.session.controller import ProjectSession
from segstudio.gui.canvas.canvas import Canvas
from segstudio.gui.canvas.canvas_tools import ToolController
from segstudio.gui.window.actions import Actions
from segstudio.gui.window.settings import Settings
from segstudio.gui.workers.background import BackgroundPools


@dataclass(frozen=True)
class FeatureHost:
    """The collaborators a feature may use."""

    session: ProjectSession
    pools: BackgroundPools
    actions: Actions
    tools: ToolController
    canvas: Canvas
    settings: Settings
    show_status: Callable[[str, int], None]  # a message in passing (milliseconds)
    reopen: Callable[[], None]  # read the project again on the same image (its files changed)
    parent: QWidget  # owns dialogs and Qt children
