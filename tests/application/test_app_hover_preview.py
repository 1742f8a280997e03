"""The hover preview's rule without Qt: debounced, latest only, one decode in flight, nothing before
the image is embedded, a click takes the shown answer, stopping hides it."""

from __future__ import annotations

from segstudio.application.hover_preview import DELAY_MS, HoverPreview
from segstudio.application.pools import ManualTimer, QueuedPools


class Harness:
    def __init__(self) -> None:
        self.pools = QueuedPools()
        self.decoded: list[tuple[float, float]] = []
        self.shown: list[object] = []
        self.timers: list[ManualTimer] = []
        self.hover = HoverPreview(self.pools.pool("segment"), self._timer, self._decode,
                                  lambda point, answer: self.shown.append(answer))

    def _timer(self, interval: int, callback) -> ManualTimer:
        self.timers.append(ManualTimer(interval, callback))
        return self.timers[-1]

    def _decode(self, point: tuple[float, float]) -> str:
        self.decoded.append(point)
        return f"mask at {point}"

    def rest(self) -> None:
        """The cursor rests: the debounce timer fires and the pools answer."""
        self.timers[0].fire()
        self.pools.run_pending()


def test_three_hovers_decode_only_the_last_after_the_delay() -> None:
    h = Harness()
    h.hover.set_ready(True)
    for x in (10.2, 20.5, 30.7):
        h.hover.hover(x, 5.0)
    assert h.timers[0].interval_ms == DELAY_MS
    h.pools.run_pending()
    assert h.decoded == []  # nothing before the cursor rests
    h.rest()
    assert h.decoded == [(30.7, 5.0)]
    assert h.shown == ["mask at (30.7, 5.0)"]


def test_no_decode_before_the_embedding() -> None:
    h = Harness()
    h.hover.hover(10, 10)
    h.rest()
    assert h.decoded == [] and h.shown == [] and not h.timers[0].is_active()
    h.hover.set_ready(True)
    h.hover.hover(11, 10)
    h.rest()
    assert h.decoded == [(11, 10)]


def test_never_two_decodes_in_flight_and_the_latest_follows() -> None:
    h = Harness()
    h.hover.set_ready(True)
    h.hover.hover(1, 1)
    h.timers[0].fire()  # the decode of (1, 1) is submitted, not run yet
    assert h.hover.in_flight
    for x in (2, 3, 4):
        h.hover.hover(x, 1)
    h.timers[0].fire()  # the cursor rested on (4, 1) while (1, 1) is decoding: it waits
    assert h.pools.pending == 1
    h.pools.run_pending()  # (1, 1) answers, then (4, 1) is decoded, (2, 1) and (3, 1) never
    assert h.decoded == [(1, 1), (4, 1)]
    assert h.shown[-1] == "mask at (4, 1)" and not h.hover.in_flight


def test_a_click_on_the_shown_pixel_takes_the_shown_answer() -> None:
    h = Harness()
    h.hover.set_ready(True)
    h.hover.hover(12.3, 7.8)
    h.rest()
    assert h.hover.take(12.9, 7.1) == ((12.3, 7.8), "mask at (12.3, 7.8)")  # the same pixel
    assert h.hover.take(13.0, 7.8) is None  # the next pixel: a decode of its own
    h.hover.hover(12.6, 7.5)  # a move within the shown pixel decodes nothing more
    h.rest()
    assert h.decoded == [(12.3, 7.8)]


def test_stop_hides_the_preview_and_drops_an_answer_in_flight() -> None:
    h = Harness()
    h.hover.set_ready(True)
    h.hover.hover(5, 5)
    h.rest()
    h.hover.hover(9, 9)
    h.timers[0].fire()  # (9, 9) is on its way
    h.hover.set_ready(False)  # e.g. another tool
    assert h.shown[-1] is None and h.hover.shown is None
    h.pools.run_pending()
    assert h.shown[-1] is None and h.hover.take(9, 9) is None  # the late answer is not shown
    h.hover.hover(6, 6)
    h.rest()
    assert h.decoded == [(5, 5), (9, 9)]  # not ready: no more decodes
