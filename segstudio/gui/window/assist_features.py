"""Assisted labelling in the window: the GrabCut and wand tools, and the mask clean-ups of Edit.

Installed from ``MainWindow``'s plugin list. The tools' gestures live in
:class:`~segstudio.gui.canvas.assist_tools.AssistTools`; the clean-ups (fill holes, remove small
islands, smooth boundaries) compute the cleaned mask with :mod:`segstudio.core.assist.cleanup`,
show the pixels that would change in the proposal layer, and apply them as one undo step only
when the user says yes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from segstudio.core.assist import cleanup
from segstudio.core.assist.preview import changes
from segstudio.gui.canvas.assist_tools import AssistTools
from segstudio.gui.window import dialogs
from segstudio.gui.window.actions import Spec
from segstudio.gui.workers.background import BackgroundPool

CLEANUPS = (
    Spec("clean_fill_holes", "Fill &holes in the current class", tip="Fill background enclosed by the current class"),
    Spec("clean_islands", "Remove small &islands…", tip="Regions smaller than N pixels take their surroundings' class"),
    Spec("clean_smooth", "S&mooth boundaries…", tip="Round off jagged class boundaries"),
)


class AssistFeatures:
    """Wires the assisted tools and the clean-ups into one window."""

    def __init__(self, window) -> None:
        self.window = window
        pools = getattr(window, "pools", None)
        self.pool = pools.pool("assist") if pools is not None else BackgroundPool("assist", parent=window)
        self.tools = AssistTools(self.pool, window)
        window.tools.assist = self.tools
        window.canvas.add_layer(self.tools.layer)
        self.tools.message.connect(lambda text: window.statusBar().showMessage(text, 20000))
        self.tools.preview_changed.connect(window.canvas.viewport().update)
        self.tools.accepted.connect(window.tools.edit_finished.emit)
        menu = window.actions.menu("Edit").addMenu("&Clean up mask")
        handlers: dict[str, Callable[[], None]] = {
            "clean_fill_holes": self.fill_holes,
            "clean_islands": self.remove_islands,
            "clean_smooth": self.smooth,
        }
        for spec in CLEANUPS:
            action = window.actions.add(spec)
            action.triggered.connect(lambda checked=False, run=handlers[spec.name]: run())
            menu.addAction(action)

    # --- clean-ups -------------------------------------------------------------------------------
    def fill_holes(self) -> None:
        value = self.window.tools.current_class
        self._offer("Fill holes", lambda label: cleanup.fill_holes(label, value))

    def remove_islands(self) -> None:
        size = dialogs.ask_number(self.window, "Remove small islands", "Smallest region to keep (pixels):", 50, 1,
                                  10_000_000)
        if size is not None:
            self._offer("Remove small islands", lambda label: cleanup.remove_islands(label, size))

    def smooth(self) -> None:
        radius = dialogs.ask_number(self.window, "Smooth boundaries", "Radius (pixels):", 2, 1, 50)
        if radius is not None:
            self._offer("Smooth boundaries", lambda label: cleanup.smooth_boundaries(label, radius))

    def _offer(self, title: str, operation: Callable[[np.ndarray], np.ndarray]) -> bool:
        """Preview what ``operation`` changes on the current mask; apply it (one undo step) on yes."""
        document = self.window.tools.document
        if document is None:
            self.window.statusBar().showMessage("No editable mask on screen", 5000)
            return False
        self.window.tools.cancel()
        cleaned = operation(document.label)
        changed, count = changes(document.label, cleaned)
        if count == 0:
            self.window.statusBar().showMessage(f"{title}: nothing to change", 5000)
            return False
        self.tools.show_region(changed)
        try:
            apply = dialogs.confirm(self.window, title, f"{count:,} pixels change (outlined on the image). Apply?")
        finally:
            self.tools.cancel()
        if apply and document is self.window.tools.document and document.set_label(cleaned) is not None:
            self.window.tools.edit_finished.emit()
            self.window.statusBar().showMessage(f"{title}: {count:,} pixels changed (Ctrl+Z undoes)", 10000)
            return True
        return False


def install(window) -> AssistFeatures:
    """Add the assisted tools and the clean-ups to ``window`` (see ``MainWindow.PLUGINS``)."""
    window.assist_features = AssistFeatures(window)
    return window.assist_features
