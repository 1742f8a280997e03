"""The edit feed follows the image on screen and fans its edits out: every dab at once, the dirty
union throttled, each finished step once; edits of an image left behind are never fed."""

from __future__ import annotations

from session_harness import Harness, make_project

from segstudio.application.pools import ManualTimer
from segstudio.application.session.edit_feed import EditFeed
from segstudio.core.geometry import Rect


def test_the_feed_follows_the_shown_image_and_throttles_one_union(tmp_path):
    folder = make_project(tmp_path / "p")
    h = Harness()
    timers: list[ManualTimer] = []
    feed = EditFeed(h.session, lambda ms, cb: timers.append(ManualTimer(ms, cb)) or timers[-1])
    seen = {"changed": [], "settled": [], "committed": []}
    for name, log in seen.items():
        getattr(feed, name).connect(log.append)
    h.session.open_project(folder)
    h.show(0)
    document = h.session.document
    assert feed.document is document
    document.begin_stroke()
    document.brush(5, 5, 1, 1)
    document.brush(20, 15, 1, 1)
    assert len(seen["changed"]) == 2 and seen["settled"] == [] and seen["committed"] == []
    document.end_stroke()
    assert seen["committed"] == ["edit"]
    assert timers[0].fire()
    (union,) = seen["settled"]
    assert union == seen["changed"][0].union(seen["changed"][1])
    assert not timers[0].fire()  # nothing new: nothing settles
    h.show(1)
    assert feed.document is h.session.document is not document
    document.undo()  # the image left behind: not fed
    assert seen["committed"] == ["edit"]
    h.session.document.fill_rect(0, 0, 3, 3, 2)
    assert seen["committed"] == ["edit", "edit"] and seen["changed"][-1] == Rect(0, 0, 4, 4)
