"""Where the app may write: inside the save folder, never through a link it did not make.

A project folder can come from someone else, and everything in it is then untrusted: a rename
journal naming ``/home/you/.bashrc`` or ``../other``, a ``.segstudio-recovery`` that is a symbolic
link to your documents. Every path the app renames, writes or deletes is therefore checked here
first: resolved with its symbolic links, it must lie inside the (resolved) save folder. The app's own
state folders (``.segstudio``, ``.segstudio-recovery``, ``models``) must also be real folders: the
app never writes, renames or deletes through a link standing in their place. One module, so there is
one rule.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import SaveError

STATE_FOLDER = ".segstudio"  # the app's own files: settings, journal, lock, caches
MODELS_FOLDER = "models"  # the project's trained models, one folder each (models/<name>)


class OutsideProjectError(SaveError):
    """A path the app was asked to write, rename or delete is not inside the save folder."""


class LinkedStateFolderError(SaveError):
    """One of the app's own folders is a symbolic link (or not a folder): it is not followed."""


def resolve_inside(save_dir: str | os.PathLike, path: str | os.PathLike) -> Path:
    """``path`` (relative paths are taken from ``save_dir``) resolved with its symbolic links;
    :class:`OutsideProjectError` unless it lies strictly inside the resolved ``save_dir``."""
    base = Path(save_dir).resolve()
    candidate = Path(path)
    resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if resolved == base or not resolved.is_relative_to(base):
        raise OutsideProjectError(f"{path} is outside the project folder {base}")
    return resolved


def is_link(path: str | os.PathLike) -> bool:
    """True for a symbolic link (dangling or not) at ``path`` itself, without following it."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def is_regular_file(path: str | os.PathLike) -> bool:
    """True for a plain file at ``path`` itself (not a link, folder, pipe or device)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def is_read_only(path: str | os.PathLike) -> bool:
    """True for an existing file the user made read-only (``chmod a-w``), which no batch replaces.

    An atomic save renames a new file over the old one, which the old file's permissions do not
    stop, so the rule is checked here. For root ``os.access`` says "writable" whatever the mode,
    so root decides by the mode bits alone (no write bit for anyone: read-only).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    return not os.access(path, os.W_OK)


def own_folder(save_dir: str | os.PathLike, name: str, create: bool = False) -> Path:
    """``save_dir/name``, one of the app's own folders, checked to be a real folder inside the
    project (created when ``create``); :class:`LinkedStateFolderError` when a link, a file or
    anything else stands there, so no caller ever writes or deletes through it."""
    base = Path(save_dir).resolve()
    folder = base / name
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        if not create:
            return folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SaveError(f"cannot create {folder}: {exc.strerror or exc}") from exc
        return own_folder(base, name)  # a link may have appeared meanwhile
    except OSError as exc:
        raise SaveError(f"cannot read {folder}: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(mode):
        raise LinkedStateFolderError(
            f"{folder} is a symbolic link to {os.readlink(folder)}; segstudio does not follow links "
            "for its own folders (remove the link: its target is not touched)"
        )
    if not stat.S_ISDIR(mode):
        raise LinkedStateFolderError(f"{folder} is not a folder; segstudio keeps its own files there")
    return folder


def own_path(save_dir: str | os.PathLike, *names: str, create: bool = False) -> Path:
    """``save_dir/names[0]/names[1]/...``, each level checked by :func:`own_folder` (created when
    ``create``): a nested folder of the app's own (``models/<name>``,
    ``.segstudio/predictions/<model>``) is never reached through a link at any level."""
    folder = Path(save_dir)
    for name in names:
        folder = own_folder(folder, name, create)
    return folder


def model_folder(save_dir: str | os.PathLike, name: str, create: bool = False) -> Path:
    """``save_dir/models/<name>``, the folder a training run or live mode writes a model into:
    ``name`` must be one plain folder name, and neither ``models`` nor ``models/<name>`` may be a
    link (:class:`LinkedStateFolderError`): a received project whose ``models/best`` points at the
    user's own model must not have that model's ``config.json`` replaced by a new run."""
    if not name or name in (".", "..") or Path(name).name != name:
        raise OutsideProjectError(f"model name {name!r} must be a plain folder name")
    return own_path(save_dir, MODELS_FOLDER, name, create=create)


def replace_linked_folder(save_dir: str | os.PathLike, name: str) -> str | None:
    """When ``save_dir/name`` is a symbolic link, remove the link itself (never its target) so the
    app makes a real folder there when it needs one; returns a message saying so, else None.

    Used at project opening for the app's state folders: a received project whose
    ``.segstudio-recovery`` points at another folder would otherwise have the app write, and delete
    same-named files, in that other folder.
    """
    folder = Path(save_dir).resolve() / name
    if not is_link(folder):
        return None
    try:
        target = os.readlink(folder)
        os.unlink(folder)  # the link only: unlink never follows it
    except OSError as exc:
        return f"{folder} is a symbolic link that could not be removed ({exc.strerror or exc}); it is not used"
    return f"{folder} was a symbolic link to {target}: the link was removed (its target is untouched)"
