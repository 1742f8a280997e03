"""Running one job over many files: progress, cancel, and "a bad file never stops the rest".

Batch operations (clean-up of many masks, boxes to masks, imports, exports) share this loop so
that every one of them reports progress as ``on_progress(done, total)``, stops between two files
when ``should_stop()`` turns true, and records a :class:`SegStudioError` as one line in
``report.errors`` instead of aborting. The window calls them from a worker thread; the command
line prints the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .errors import SegStudioError

Progress = Callable[[int, int], None]
StopFlag = Callable[[], bool]
Item = TypeVar("Item")


@dataclass
class BatchReport:
    """What a batch did: files written, files skipped (with why), errors, and whether it stopped."""

    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    added_classes: list[str] = field(default_factory=list)
    stopped: bool = False
    done: int = 0  # items whose work finished without an error (written or deliberately skipped)

    @property
    def ok(self) -> bool:
        return not self.errors


def run_batch(
    items: Iterable[Item],
    work: Callable[[Item], None],
    report: BatchReport,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> BatchReport:
    """Call ``work(item)`` for each item; user errors go to ``report.errors`` and the loop goes on."""
    items = list(items)
    total = len(items)
    if on_progress is not None:
        on_progress(0, total)
    for done, item in enumerate(items, start=1):
        if should_stop is not None and should_stop():
            report.stopped = True
            break
        try:
            work(item)
            report.done += 1
        except SegStudioError as exc:
            report.errors.append(str(exc))
        if on_progress is not None:
            on_progress(done, total)
    return report
