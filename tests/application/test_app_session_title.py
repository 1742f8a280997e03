"""application.window_title: what the title bar says about the image and its state."""

from __future__ import annotations

from segstudio.application.window_title import window_title


def test_no_image_is_just_the_app():
    assert window_title("", 0, 0) == "segstudio"


def test_loading_names_the_image_coming():
    assert window_title("img4.jpg", 4, 5, loading=True, dirty=True) == "img4.jpg (4/5) loading… — segstudio"


def test_marks_in_order():
    assert window_title("a.jpg", 1, 3) == "a.jpg (1/3) — segstudio"
    title = window_title("a.jpg", 2, 3, dirty=True, verified=True, mask_blocked=True, read_only=True)
    assert title == "*a.jpg (2/3)  [verified]  [mask read-only]  [read-only] — segstudio"
