"""The bundled demo project (resources/demo) and its writable copy in the user's data folder.

The package may be installed read-only, so the first use copies the demo to
``AppDataLocation/demo``; saving then works like in any other folder.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QStandardPaths

# One flat folder in labelImg's layout: JPEG photos, <stem>.png masks, <stem>.xml, classes.txt.
DEMO_FILES_MARKER = "classes.txt"


def bundled_demo() -> Path | None:
    """The demo folder shipped with the package, or None if this installation lacks it."""
    try:
        root = resources.files("segstudio.resources") / "demo"
    except ModuleNotFoundError:
        return None
    path = Path(str(root))
    return path if (path / DEMO_FILES_MARKER).is_file() else None


def user_demo_folder() -> Path:
    """Where the writable copy of the demo lives."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:
        base = str(Path.home() / ".segstudio")
    return Path(base) / "demo"


def ensure_demo_copy(target: Path | None = None) -> Path | None:
    """Copy the bundled demo to ``target`` on first use and return ``target``.

    Once copied (its classes.txt exists) the copy is never touched again.
    """
    source = bundled_demo()
    if source is None:
        return None
    target = Path(target) if target is not None else user_demo_folder()
    if (target / DEMO_FILES_MARKER).is_file():
        return target  # copied before: the user's edits (and deletions) stay as they are
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name != "README.md" and not (target / item.name).exists():
            shutil.copy2(item, target / item.name)
    return target
