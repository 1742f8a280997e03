"""Recovery copies: the edits of an image not saved yet, kept in ``<save_dir>/.segstudio-recovery``.

With autosave off the window writes a copy of the mask being edited here, offers it on the next
open and deletes it once the mask is saved or the copy declined. The folder may come with a received
project, so nothing here trusts it: it is used only when it is a real folder inside the save folder
(never a symbolic link, see ``core.paths``), a "copy" is read or deleted only when it is a plain
palette or grayscale PNG (what we write), and the folder is created on the first write and removed
when its last copy goes, so a project never keeps an empty one.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import SegStudioError
from .masks import read_mask, write_mask
from .paths import LinkedStateFolderError, is_regular_file, own_folder

RECOVERY_FOLDER = ".segstudio-recovery"


def recovery_path(save_dir: str | os.PathLike, stem: str) -> Path:
    """Where the recovery copy of the image ``stem`` goes (whether or not it exists)."""
    return Path(save_dir) / RECOVERY_FOLDER / f"{stem}.png"


def write_copy(save_dir: str | os.PathLike, stem: str, label: np.ndarray, colours: np.ndarray | None) -> Path:
    """Write the copy atomically; SaveError (LinkedStateFolderError) when the folder is a link."""
    folder = own_folder(save_dir, RECOVERY_FOLDER, create=True)
    path = folder / f"{stem}.png"
    write_mask(path, label, colours)
    return path


def is_copy(path: str | os.PathLike) -> bool:
    """True when ``path`` is a recovery copy we could have written: in a real recovery folder, a
    plain file (not a link), a palette or grayscale PNG. Anything else is never read or deleted."""
    path = Path(path)
    if not _folder_usable(path.parent) or not is_regular_file(path):
        return False
    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.mode in ("P", "L")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False


def read_copy(path: str | os.PathLike) -> np.ndarray | None:
    """The label map of the copy at ``path``, or None when there is no usable copy."""
    if not is_copy(path):
        return None
    try:
        return read_mask(path)
    except SegStudioError:
        return None


def remove_copy(path: str | os.PathLike) -> None:
    """Delete the copy at ``path`` if it is one of ours, then the folder if it became empty."""
    path = Path(path)
    if not is_copy(path):
        return
    with contextlib.suppress(OSError):
        os.unlink(path)
    with contextlib.suppress(OSError):  # fails (harmlessly) while other copies remain
        os.rmdir(path.parent)


def _folder_usable(folder: Path) -> bool:
    """True when ``folder`` is the project's real recovery folder (exists, not a link)."""
    if folder.name != RECOVERY_FOLDER:
        return False
    try:
        return own_folder(folder.parent, RECOVERY_FOLDER) is not None and folder.is_dir()
    except (LinkedStateFolderError, SegStudioError):
        return False
