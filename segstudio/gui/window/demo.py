"""The bundled demo project (resources/demo) and its writable copy in the user's data folder.

The package may be installed read-only, so the first use copies the demo to
``AppDataLocation/demo``; saving then works like in any other folder.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from segstudio.core.errors import SaveError
from segstudio.core.platform_io import home_folder

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


def user_demo_folder() -> Path | None:
    """Where the writable copy of the demo lives; None where there is no per-user folder at all
    (no home folder: ``HOME`` unset and no account entry)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:
        home = home_folder()
        if home is None:
            return None
        base = str(home / ".segstudio")
    return Path(base) / "demo"


def ensure_demo_copy(target: Path | None = None) -> Path | None:
    """Copy the bundled demo to ``target`` on first use and return ``target``; None when this
    installation has no demo. SaveError, naming the folder, when it cannot be copied (no home
    folder, a read-only or full disk).

    Once copied (its classes.txt exists) the copy is never touched again.
    """
    source = bundled_demo()
    if source is None:
        return None
    target = Path(target) if target is not None else user_demo_folder()
    if target is None:
        raise SaveError("no folder to copy the demo project into: this account has no home folder (HOME is not set)")
    if (target / DEMO_FILES_MARKER).is_file():
        return target  # copied before: the user's edits (and deletions) stay as they are
    try:
        target.mkdir(parents=True, exist_ok=True)
        for item in source.iterdir():
            if item.is_file() and item.name != "README.md" and not (target / item.name).exists():
                shutil.copy2(item, target / item.name)
    except OSError as exc:
        raise SaveError(f"cannot copy the demo project to {target}: {exc.strerror or exc}") from exc
    return target
