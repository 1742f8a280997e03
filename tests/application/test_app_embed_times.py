"""The running median of this machine's embedding times, as the status bar says it."""

from __future__ import annotations

from segstudio.application.embed_times import KEPT, EmbedTimes


def _times(text: str = "") -> tuple[EmbedTimes, dict]:
    kept = {"text": text}
    return EmbedTimes(lambda: kept["text"], lambda value: kept.__setitem__("text", value)), kept


def test_before_any_measurement_it_says_the_first_one_takes_longest() -> None:
    times, _ = _times()
    assert times.usual() is None and times.phrase() == "the first one here takes longest"


def test_the_median_of_the_last_few_is_what_it_usually_takes() -> None:
    times, kept = _times()
    for seconds in (3.0, 3.4, 30.0):  # one slow run (a busy machine) does not move it
        times.add(seconds)
    assert times.usual() == 3.4 and times.phrase() == "usually 3.4 s here"
    assert kept["text"] == "3,3.4,30"
    for _ in range(KEPT):
        times.add(1.0)
    assert times.seconds() == [1.0] * KEPT and times.usual() == 1.0  # only the last KEPT count


def test_unreadable_or_absurd_settings_count_as_none() -> None:
    times, _ = _times("abc,,-1,2.5,1e9,nan")
    assert times.seconds() == [2.5] and times.usual() == 2.5
    times.add(-3)
    times.add(float("nan"))
    assert times.seconds() == [2.5]
