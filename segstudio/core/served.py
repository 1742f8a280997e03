"""Label next, for a team: each window is served a different one of the most uncertain images.

With the file list sorted by the model's uncertainty, every window of a team would otherwise open
the same top image. As MONAI Label's active-learning strategy does, "label next" serves the least
recently served of the top-N uncertain images that nobody edits now, and records the serving in
``<save_dir>/.segstudio/served.json`` (a counter per image, never a clock: hosts' clocks differ).
The record is a hint, not a lock: two windows serving at the same instant may both read the same
record, and the claim then decides (the second finds the image taken and is served another).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path

from .atomic import atomic_write_text
from .errors import SegStudioError
from .paths import STATE_FOLDER, is_regular_file, own_folder
from .safe_read import read_json

SERVED_NAME = "served.json"
TOP_N = 5  # served among this many of the most uncertain images
SERVED_LIMIT = 4 * 1024 * 1024  # the record of a project of many thousands of images
MAX_COUNT = 2**53


def served_path(save_dir: str | os.PathLike) -> Path:
    return Path(save_dir) / STATE_FOLDER / SERVED_NAME


def read_served(save_dir: str | os.PathLike) -> dict[str, int]:
    """{stem: serving number} (a received or broken record reads as empty: it is only a hint)."""
    path = served_path(save_dir)
    if not is_regular_file(path):
        return {}
    try:
        data = read_json(path, SERVED_LIMIT, SegStudioError, "served record", follow_symlinks=False)
    except SegStudioError:
        return {}
    served = data.get("served") if isinstance(data, dict) else None
    if not isinstance(served, dict):
        return {}
    return {k: v for k, v in served.items() if isinstance(k, str) and type(v) is int and 0 < v <= MAX_COUNT}


def pick(order: Sequence[int], stems: Sequence[str], served: dict[str, int], skip: Collection[int],
         top_n: int = TOP_N) -> int | None:
    """The entry index to serve: among the first ``top_n`` of ``order`` (most uncertain first) not in
    ``skip``, the one served longest ago (never served first; ties: the more uncertain)."""
    candidates = [i for i in order if i not in skip][:top_n]
    if not candidates:
        return None
    return min(candidates, key=lambda i: (served.get(stems[i], 0), candidates.index(i)))


def mark_served(save_dir: str | os.PathLike, stem: str) -> None:
    """Record that ``stem`` was served now (SaveError when the record cannot be written)."""
    served = read_served(save_dir)
    served[stem] = max(served.values(), default=0) + 1
    folder = own_folder(save_dir, STATE_FOLDER, create=True)
    atomic_write_text(folder / SERVED_NAME, json.dumps({"served": served}))
