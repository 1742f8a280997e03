"""A/D follow the file list as the user sees it: sorted (by uncertainty) and filtered."""

from __future__ import annotations

from gui_helpers import wait_loaded  # noqa: E402


def test_next_and_previous_follow_the_displayed_order(window):
    window.file_dock.set_order([2, 0, 1])  # e.g. sorted by uncertainty: img3, img1, img2
    assert window.show_image(2) and wait_loaded(window)
    assert window.go(+1) and wait_loaded(window) and window.session.index == 0
    assert window.go(+1) and wait_loaded(window) and window.session.index == 1
    assert not window.go(+1)  # the bottom of the list
    assert window.go(-1) and wait_loaded(window) and window.session.index == 0
    assert window.go(-1) and wait_loaded(window) and window.session.index == 2
    assert not window.go(-1)  # the top of the list
    assert window.file_dock.list.currentRow() == 0
