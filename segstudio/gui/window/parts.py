"""What the window lends its parts: narrow protocols instead of the window itself.

Why: a part that holds the window reaches into everything (``window.model_features.train_dock…``)
and nobody can tell what it depends on. A part of the window (the model part, live mode) is given
exactly what it uses, each typed by one of these protocols, and talks to the other parts through
the application controllers' events; the window only assembles them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

StatusFn = Callable[[str, int], None]  # (message, milliseconds): the window's status bar


class ActionHost(Protocol):
    """The window's actions by name, and its menus."""

    menus: dict[str, QMenu]

    def add(self, spec: Any) -> QAction: ...

    def menu(self, title: str) -> QMenu: ...

    def __getitem__(self, name: str) -> QAction: ...


class CloseHooks(Protocol):
    """Taking part in closing (gui.window.closing): a guard asks, a hook stops (a future, or None)."""

    def add_guard(self, guard: Callable[[], bool]) -> None: ...

    def add_hook(self, hook: Callable[[], Future | None]) -> None: ...


class ToolState(Protocol):
    """The painting tools: a gesture in progress and cancelling it (a finished edit is announced
    by the document itself, through the edit feed)."""

    unpainted: int

    @property
    def busy(self) -> bool: ...

    def cancel(self) -> None: ...


class FileOrder(Protocol):
    """The file list: its order and the text after each name."""

    def set_order(self, order: list[int] | None, suffixes: dict[int, str] | None = None) -> None: ...

    def displayed_indices(self) -> list[int]: ...


class ClassVisibility(Protocol):
    """Which classes are shown (the class dock's check boxes), and when that changes."""

    visible: list[bool]
    visibility_changed: Any  # a Qt signal
