"""Done when of issue 31, short: three processes drive the session controller (no Qt) on one folder:
random images, strokes, saves, class additions (refused while others edit, else seen by all), steps
away; one of them is killed with -9. Every stroke each one saved is on disk (or in a conflict
file), no update is lost, no image was edited by two at once, and the killed one's claims are
stale at once (its process is gone): a fresh window sees none and can claim every image.
tests/benchmarks/team_soak.py runs the long version and prints the counts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from team_driver import leftover_claims, run_team  # noqa: E402

from segstudio.core.claims import ClaimBook  # noqa: E402


@pytest.mark.slow
def test_three_processes_one_killed_nothing_lost(tmp_path):
    findings, counts = run_team(tmp_path, people=3, seconds=3.0, images=5, kill_after=1.0)
    assert counts["exit codes"]["p0"] == 0 and counts["exit codes"]["p1"] == 0
    assert counts["exit codes"]["p2"] == -9
    assert findings.lost == [], counts
    assert findings.overlaps == [], counts
    assert findings.classes_missing == [], counts
    assert findings.saved > 50, counts  # the run did work: strokes by every process
    assert findings.classes_refused > 0, counts
    folder = tmp_path / "shared"
    assert leftover_claims(folder) == {}
    book = ClaimBook(folder, "fresh")
    for index in range(5):
        book.claim(f"img{index:02d}")  # the killed one's images too
    book.release_all()
