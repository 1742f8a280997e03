"""With the uncertainty sort the title's "(2/10)" is the place in the list as shown, not in the
folder, and follows a reorder (issue 29, item 9)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_helpers import process_until, wait_loaded  # noqa: E402


def test_the_title_counts_in_the_displayed_order(window):
    assert wait_loaded(window) and "img1.jpg (1/3)" in window.windowTitle()
    window.file_dock.set_order([2, 1, 0])  # the least certain first: img1 is now the last row
    assert "img1.jpg (3/3)" in window.windowTitle()
    assert window.go(-1) and wait_loaded(window)  # A: the row above it, img2
    assert process_until(lambda: "img2.jpg (2/3)" in window.windowTitle(), 10)
    window.file_dock.set_order(None)  # the sort turned off: the folder order again
    assert "img2.jpg (2/3)" in window.windowTitle()
    window.file_dock.set_order([1, 0, 2])
    assert "img2.jpg (1/3)" in window.windowTitle()
