"""No lost update: a mask is written only over the file its writer last saw.

Two windows never edit one image at once (``core.claims``), but a claim can be taken over from a
window that was only asleep (a laptop lid closed for longer than the claim timeout). When it wakes
its save must not overwrite what the new owner wrote since. So every save first compares the mask
on disk with the one the window loaded or last wrote (a hash of the file's bytes: a network drive's
coarse or skewed modification times cannot be trusted); when they differ, the strokes are written
beside it, in ``<save_dir>/conflicts/<stem>.conflict-<who>-<time>.png``, and nothing is replaced.
(A folder of their own: beside the masks, a PNG would be listed as a photo to label.)
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import numpy as np

from .claims import clean_text
from .masks import write_mask
from .paths import own_folder

CONFLICTS_FOLDER = "conflicts"
HASH_LIMIT = 256 * 1024 * 1024  # a mask larger than this is no mask of ours: hashed by its size alone
ABSENT = "absent"  # the digest of "no file here"


def file_digest(path: str | os.PathLike) -> str:
    """A digest of the file at ``path`` (:data:`ABSENT` when there is none), never through a link."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return ABSENT
    if not stat.S_ISREG(info.st_mode) or info.st_size > HASH_LIMIT:
        return f"other:{info.st_mode:o}:{info.st_size}:{info.st_mtime_ns}"
    digest = hashlib.sha256()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def conflict_path(save_dir: str | os.PathLike, stem: str, person: str, when: float | None = None) -> Path:
    """Where the strokes of ``person`` on image ``stem`` go when its mask changed under them."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if when is None else when))
    folder = own_folder(save_dir, CONFLICTS_FOLDER, create=True)
    base = f"{stem}.conflict-{clean_text(person) or 'someone'}-{stamp}"
    path, count = folder / f"{base}.png", 1
    while os.path.lexists(path):
        count += 1
        path = folder / f"{base}-{count}.png"
    return path


def write_conflict(save_dir: str | os.PathLike, stem: str, person: str, label: np.ndarray,
                   colours: np.ndarray | None) -> Path:
    """Write ``label`` as a conflict file (atomically); returns its path."""
    path = conflict_path(save_dir, stem, person)
    write_mask(path, label, colours)
    return path
