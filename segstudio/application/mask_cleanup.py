"""Clean-ups as the window offers them: one mask on screen, or every labelled mask of the project.

The pixel work is :mod:`segstudio.core.assist.cleanup`. Here are the three operations by name with
their one parameter, and the project-wide run, which copies every mask it rewrites to
``.segstudio/backups/cleanup-<time>/`` first: a batch has no undo, so the originals stay inside
the project until the user deletes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from segstudio.core.assist import cleanup
from segstudio.core.batch import BatchReport, Progress, StopFlag
from segstudio.core.errors import MaskError
from segstudio.core.paths import STATE_FOLDER, own_folder
from segstudio.core.project import ImageEntry, Project

BACKUPS = "backups"


@dataclass(frozen=True)
class Cleanup:
    """One clean-up: its words and the parameter it asks for (None: none)."""

    key: str
    title: str
    question: str | None = None  # the parameter's label
    default: int = 0
    low: int = 0
    high: int = 0


CLEANUPS = {
    "holes": Cleanup("holes", "Fill holes in every class"),
    "islands": Cleanup("islands", "Remove small islands", "Smallest region to keep (pixels):", 50, 1, 10_000_000),
    "smooth": Cleanup("smooth", "Smooth boundaries", "Radius (pixels):", 2, 1, 50),
}


def operation(key: str, amount: int = 0, value: int | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """The label-map function of clean-up ``key``; ``value`` limits it to one class."""
    values = None if value is None else [value]
    if key == "holes":
        return partial(cleanup.fill_all_holes, values=values)
    if key == "islands":
        return partial(cleanup.remove_islands, min_pixels=amount, values=values)
    if key == "smooth":
        return partial(cleanup.smooth_boundaries, radius=amount, values=values)
    raise ValueError(f"unknown clean-up {key!r}")


def backup_folder(save_dir: str | Path, now: float | None = None) -> Path:
    """A new ``.segstudio/backups/cleanup-<time>`` inside the project (no link followed)."""
    state = own_folder(save_dir, STATE_FOLDER, create=True)
    backups = own_folder(state, BACKUPS, create=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return own_folder(backups, f"cleanup-{stamp}", create=True)


def clean_project(
    project: Project, key: str, amount: int, on_progress: Progress | None = None, should_stop: StopFlag | None = None
) -> tuple[BatchReport, Path]:
    """Apply clean-up ``key`` to every labelled mask; (report, folder holding the originals).

    A mask the project cannot load as it is (another size than its image, values that are not
    classes) or that is read-only is named in the report and left byte for byte as it was: the
    window offers to repair the former, and a clean-up would otherwise rewrite it unchecked."""
    backups = backup_folder(project.save_dir)
    entries = {entry.mask_path: entry for entry in project.labelled_entries()}
    report = cleanup.clean_masks(list(entries), operation(key, amount), project.classes.colour_table(),
                                 on_progress, should_stop, backup_dir=backups, load=partial(_load, project, entries))
    return report, backups


def _load(project: Project, entries: dict[Path, ImageEntry], path: Path) -> np.ndarray:
    """The mask at ``path`` as the project loads it (checked against its image and the classes)."""
    label = project.load_mask(entries[path])
    if label is None:  # gone, or no longer a file, since the project was listed
        raise MaskError(f"{path} is no longer a mask file")
    return label
