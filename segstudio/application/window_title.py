"""The labelling window's title: which image, where in the folder, and what state it is in.

A rule of its own (not Qt) because the title is where the user reads at a glance that an image has
unsaved edits (``*``), is verified, has a mask that did not load, or that the whole project is open
read-only in another window.
"""

from __future__ import annotations

APP = "segstudio"


def window_title(name: str, position: int, count: int, *, loading: bool = False, dirty: bool = False,
                 verified: bool = False, mask_blocked: bool = False, read_only: bool = False) -> str:
    """Title for image ``name``, number ``position`` (from 1) of ``count``; just the app's name when
    there is no image (``name`` empty)."""
    if not name:
        return APP
    if loading:
        return f"{name} ({position}/{count}) loading… — {APP}"
    marks = "".join(text for on, text in ((verified, "  [verified]"), (mask_blocked, "  [mask read-only]"),
                                          (read_only, "  [read-only]")) if on)
    return f"{'*' if dirty else ''}{name} ({position}/{count}){marks} — {APP}"
