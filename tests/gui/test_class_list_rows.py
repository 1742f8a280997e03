"""The class list shows enough rows at the smallest supported window (issue 29, item 7: about six
rows at 1280x820 led to mis-clicks): at least eight of twelve classes in view on a first start, with
the tabbed docks (files, training) keeping room for theirs."""

from __future__ import annotations

import sys
from pathlib import Path

from segstudio.gui.window import window_state

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gui_helpers import process_until  # noqa: E402
from gui_project import make_project  # noqa: E402

CLASSES = ["background"] + [f"class {i}" for i in range(1, 12)]


def _rows_in_view(tree) -> int:
    viewport = tree.viewport().rect()
    return sum(viewport.contains(tree.visualItemRect(tree.topLevelItem(i))) for i in range(tree.topLevelItemCount()))


def test_eight_classes_in_view_at_1280x820(make_window, tmp_path):
    window = make_window(make_project(tmp_path / "images", classes=CLASSES))
    window.resize(1280, 820)
    process_until(lambda: window.width() == 1280, 5)
    window_state.default_dock_sizes(window)
    process_until(lambda: False, 0.2)
    assert _rows_in_view(window.class_dock.tree) >= 8
    files = window.file_dock.list  # the tabbed docks keep their room: files, training...
    assert files.viewport().height() >= 6 * files.sizeHintForRow(0)
