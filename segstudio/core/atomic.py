"""Atomic file writes: a crash or a full disk never leaves a half-written file.

The data goes to a temporary file in the same folder (same file system, so ``os.replace`` is an
atomic rename), is flushed and fsynced, then replaces the target (``core.platform_io.replace_file``:
on Windows tried again for a moment while a scanner holds the target open). On any failure the
temporary file is removed and the previous file, if any, is untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import SaveError
from .platform_io import fsync_folder, new_file_mode, replace_file


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a binary file for writing that appears at ``path`` only once fully written."""
    target = Path(path)
    folder = target.parent
    try:
        fd, tmp_name = temporary_next_to(target)
    except OSError as exc:
        raise SaveError(f"cannot write in {folder}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        replace_file(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise SaveError(f"cannot save {target}: {exc.strerror or exc}") from exc
        raise
    fsync_folder(folder)


# mkstemp names: prefix + 8 characters from this alphabet + suffix (CPython's tempfile).
_RANDOM = r"[a-z0-9_]{8}"
TEMP_SUFFIX = ".tmp"
# Our temporaries: ".<target>.<random>.tmp" (atomic_open) and ".<target>.<random>.remap" (the class
# rewrite's staged files, see core.journal). Nothing else is ever removed as "stale".
STALE_TEMPORARY = re.compile(rf"\..+\.{_RANDOM}(?:\.tmp|\.remap)")
# A temporary this recent may belong to a save in progress in another process (the command line,
# a second window, whose class rewrite may stage files for minutes): it is left for a later open.
STALE_AFTER_S = 600.0


def remove_stale_temporaries(folder: str | os.PathLike, now: float | None = None) -> list[Path]:
    """Delete the temporaries a killed save left in ``folder``; returns the paths removed.

    Only regular files directly in ``folder`` whose whole name matches :data:`STALE_TEMPORARY`
    and that are older than :data:`STALE_AFTER_S`; never a symbolic link (nor what it points
    to), never a subfolder, never anything when ``folder`` itself is a link. Call it after any
    rename journal is finished (``core.journal.complete_journal``): a journal's staged files are
    needed until then.
    """
    folder = Path(folder)
    now = time.time() if now is None else now
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return []
        found = list(os.scandir(folder))
    except OSError:
        return []
    removed = []
    for item in found:
        try:
            if not STALE_TEMPORARY.fullmatch(item.name) or not item.is_file(follow_symlinks=False):
                continue
            if now - item.stat(follow_symlinks=False).st_mtime < STALE_AFTER_S:
                continue
            os.unlink(item.path)
            removed.append(Path(item.path))
        except OSError:  # gone meanwhile, or not ours to delete: leave it
            continue
    return removed


def temporary_next_to(target: str | os.PathLike, suffix: str = TEMP_SUFFIX) -> tuple[int, str]:
    """Create ``.<target name>.<random><suffix>`` next to ``target`` (same file system, so it can
    be renamed over it) with the permissions the target has, or a new file would get; returns the
    open descriptor and the name. Every writer of the program makes its temporaries here, so a
    rewrite never turns a shared 0644 file into a private 0600 one."""
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    _set_mode(fd, target)
    return fd, name


def write_temporary(target: str | os.PathLike, data: bytes, suffix: str = TEMP_SUFFIX) -> Path:
    """Write ``data`` to a new fsynced temporary next to ``target`` (:func:`temporary_next_to`) and
    return its path, leaving ``target`` untouched: for writers that stage several files and rename
    them all at the end (the class rewrite). Nothing is left behind when the write fails."""
    fd, name = temporary_next_to(target, suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def open_in_place(path: str | os.PathLike, append: bool) -> BinaryIO:
    """Open ``path`` to write it in place, not atomically: a resumable download grows its
    ``.incomplete`` file over several runs. Never through a symbolic link planted at its name
    (``O_NOFOLLOW``), never a pipe or a device (``O_NONBLOCK``, then ``fstat``): :class:`SaveError`
    instead, with nothing written. ``append`` False empties the file first."""
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0) | (os.O_APPEND if append else 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SaveError(f"{path} is a symbolic link: not written through (remove it)") from exc
        raise SaveError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SaveError(f"{path} is not a regular file: not written (remove it)")
        if not append:
            os.ftruncate(fd, 0)
        return os.fdopen(fd, "ab" if append else "wb")
    except BaseException:
        os.close(fd)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode(encoding))


def _set_mode(fd: int, target: Path) -> None:
    """Give the temporary file the permissions a plain ``open`` would have given the target.

    ``mkstemp`` creates files readable by their owner only; without this every saved mask would
    become private (0600), even when it replaced a shared 0644 file. (Windows: no such bits.)
    """
    mode = new_file_mode(target)
    if mode is None:
        return
    with contextlib.suppress(OSError):  # cosmetic: never fail a save over it
        os.fchmod(fd, mode)
