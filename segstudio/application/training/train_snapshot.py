"""Freeze the labelled masks at the moment Train is pressed, so painting can go on during a run.

Masks are hard-linked (copied where links are impossible) into a folder under
``<save_dir>/.segstudio/``. Saves replace mask files atomically (a new file renamed over the old
name), so a link keeps the old content: a stroke made during training never changes the data of
the run that is already going. The trainer gets a :class:`SnapshotProject`, which looks like a
:class:`~segstudio.core.project.Project` to it (same save folder, so models and ImageSets lists
are where the user expects them) but reads masks from the snapshot.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from segstudio.core import images, masks
from segstudio.core.errors import SegStudioError
from segstudio.core.paths import STATE_FOLDER, own_folder
from segstudio.core.project import ImageEntry, Project


class SnapshotProject:
    """The labelled part of a project with its masks frozen in ``folder`` (what ``train`` reads)."""

    def __init__(self, project: Project, folder: Path, entries: list[ImageEntry], originals: dict[Path, Path]) -> None:
        self.image_dir = project.image_dir
        self.save_dir = project.save_dir
        self.classes = copy.deepcopy(project.classes)
        self.folder = folder
        self.entries = entries
        self._originals = originals  # snapshot mask path -> the user's mask path (for messages)

    def labelled_entries(self) -> list[ImageEntry]:
        return list(self.entries)

    def is_labelled(self, entry: ImageEntry) -> bool:
        return entry.mask_path.is_file()

    def load_image(self, entry: ImageEntry) -> np.ndarray:
        return images.load_image(entry.image_path)

    def load_mask(self, entry: ImageEntry) -> np.ndarray | None:
        try:
            return masks.load_mask(entry.mask_path, images.image_size(entry.image_path), len(self.classes))
        except SegStudioError as exc:  # name the user's file, not the snapshot's
            original = self._originals.get(entry.mask_path, entry.mask_path)
            raise type(exc)(str(exc).replace(str(entry.mask_path), str(original))) from None

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def take_snapshot(project: Project) -> SnapshotProject:
    """Link (or copy) every labelled mask of ``project`` into a fresh snapshot folder."""
    base = own_folder(project.save_dir, STATE_FOLDER, create=True)  # never a link to elsewhere
    folder = Path(tempfile.mkdtemp(prefix="train-snapshot-", dir=base))
    entries: list[ImageEntry] = []
    originals: dict[Path, Path] = {}
    try:
        for entry in project.labelled_entries():
            target = folder / entry.mask_path.name
            try:
                os.link(entry.mask_path, target)
            except OSError:
                shutil.copy2(entry.mask_path, target)
            entries.append(replace(entry, mask_path=target))
            originals[target] = entry.mask_path
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return SnapshotProject(project, folder, entries, originals)


def remove_stale_snapshots(save_dir: str | os.PathLike) -> None:
    """Delete snapshot folders a crashed run left behind (called when no run is going)."""
    try:  # a linked .segstudio is not searched: its target's folders are not ours to delete
        base = own_folder(save_dir, STATE_FOLDER)
    except SegStudioError:
        return
    for folder in base.glob("train-snapshot-*") if base.is_dir() else []:
        shutil.rmtree(folder, ignore_errors=True)
