"""``<save_dir>/.segstudio/project.json``: what a project keeps that labelImg's files have no room for.

One place reads and writes it: class colours by name (``"class_colours"``), the active model, and the
class list the masks were written with (``"class_list"``, names in index order). ``classes.txt`` can
be edited by hand or replaced between sessions; comparing it with the recorded list tells whether the
masks, which store indices, still mean what they meant (:func:`compare_class_lists`).
A write merges over the file on disk, so keys another part of the program wrote (or that a newer
version knows) are kept.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .atomic import atomic_write_text
from .classes import MAX_CLASSES, check_class_name
from .errors import ClassFileError, SegStudioError
from .journal import STATE_FOLDER
from .safe_read import SETTINGS_LIMIT, read_limited

SETTINGS_NAME = "project.json"
CLASS_LIST_KEY = "class_list"

SAME, APPENDED, CHANGED = "same", "appended", "changed"


def settings_path(save_dir: str | os.PathLike) -> Path:
    return Path(save_dir) / STATE_FOLDER / SETTINGS_NAME


def read_settings(save_dir: str | os.PathLike) -> tuple[dict, list[str]]:
    """The settings (empty when there are none) and warnings; a broken file is reported, not fatal."""
    path = settings_path(save_dir)
    if not os.path.lexists(path):
        return {}, []
    try:  # the app's own state: bounded, never through a link, never blocking on a pipe
        raw = read_limited(path, SETTINGS_LIMIT, SegStudioError, "project settings", follow_symlinks=False)
        data = json.loads(raw.decode("utf-8"))
    except SegStudioError as exc:
        return {}, [f"{exc}; ignored"]
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return {}, [f"{path} ignored: not valid JSON ({exc})"]
    if not isinstance(data, dict):
        return {}, [f"{path} ignored: not a JSON object"]
    return data, []


def settings_text(save_dir: str | os.PathLike, settings: dict) -> tuple[str, dict]:
    """The file's new text and the merged dict: ``settings`` over what is on disk now."""
    on_disk, _ = read_settings(save_dir)
    merged = {**on_disk, **settings}
    return json.dumps(merged, indent=2, sort_keys=True) + "\n", merged


def write_settings(save_dir: str | os.PathLike, settings: dict) -> dict:
    """Write ``settings`` merged over the file on disk, atomically; returns the merged dict."""
    text, merged = settings_text(save_dir, settings)
    path = settings_path(save_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return merged


def recorded_class_names(settings: dict) -> list[str] | None:
    """The class list the masks were written with, or None when none (or a broken one: not a list
    of at most 255 valid class names) is recorded; a received project.json may hold anything."""
    names = settings.get(CLASS_LIST_KEY)
    if not isinstance(names, list) or not names or len(names) > MAX_CLASSES:
        return None
    try:
        return [check_class_name(name) for name in names]
    except ClassFileError:
        return None


def compare_class_lists(recorded: list[str], current: list[str]) -> str:
    """SAME; APPENDED (``current`` only adds names at the end: every mask keeps its meaning); or
    CHANGED (an index now names another class, or a class is gone)."""
    if current == recorded:
        return SAME
    if current[: len(recorded)] == recorded:
        return APPENDED
    return CHANGED


def describe_change(recorded: list[str], current: list[str]) -> str:
    """One readable line on how ``current`` differs from ``recorded``."""
    gone = [n for n in recorded if n not in current]
    moved = [n for i, n in enumerate(recorded) if n in current and current.index(n) != i]
    parts = []
    if gone:
        parts.append("removed: " + ", ".join(repr(n) for n in gone[:5]))
    if moved:
        parts.append("moved: " + ", ".join(f"{n!r} {recorded.index(n)}→{current.index(n)}" for n in moved[:5]))
    return "; ".join(parts) or "the names differ"
