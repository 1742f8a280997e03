"""How the dataset commands print a :class:`~segstudio.core.batch.BatchReport`.

Summary and skipped files go to stdout, warnings and errors to stderr (one line each, no
traceback); the exit status is 1 when any file failed, so scripts notice while the rest of the
batch was still done.
"""

from __future__ import annotations

import sys

from segstudio.core.batch import BatchReport


def print_report(command: str, report: BatchReport, summary: str) -> int:
    """Print ``summary`` and the report's details; returns the exit status."""
    print(summary)
    if report.added_classes:
        print("classes added: " + ", ".join(report.added_classes))
    for line in report.skipped:
        print(f"skipped: {line}")
    for line in report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    for line in report.errors:
        print(f"segstudio-cli {command}: error: {line}", file=sys.stderr)
    if report.stopped:
        print(f"segstudio-cli {command}: stopped before the end", file=sys.stderr)
    return 1 if report.errors or report.stopped else 0
