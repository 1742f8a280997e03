"""Reading a user's file without blocking, without running out of memory, without a traceback.

Every text, JSON or XML file that a user (or another tool) hands us goes through
:func:`read_limited`. A path can name something that is not a file at all: ``/dev/zero`` never
ends, a FIFO blocks ``open`` until some other process writes to it (the window would freeze), a
folder cannot be read. And a real file can be far larger than any genuine class list or annotation.
So the path is checked with ``stat`` before it is opened (regular files only), opened with
``O_NONBLOCK`` in case it was swapped meanwhile (checked again with ``fstat``), and read up to a
limit per kind of file. Each failure is one clear error of the caller's type, naming the file.

Images are not read here (Pillow and OpenCV open them), but :func:`check_regular_file` gives them
the same "regular files only" rule before they are opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import SegStudioError

MIB = 1024 * 1024
# Generous limits: far above any genuine file of the kind, far below what would hurt.
CLASS_FILE_LIMIT = 1 * MIB  # 255 names at most
LABELME_JSON_LIMIT = 256 * MIB  # the image itself may be embedded (base64 imageData)
XML_LIMIT = 16 * MIB  # thousands of boxes
SETTINGS_LIMIT = 16 * MIB  # project.json: colours, model mappings

_CHUNK = 4 * MIB


def _kind(mode: int) -> str:
    """A name for what a non-regular path is, for the error message."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def check_regular_file(
    path: str | os.PathLike,
    error: type[SegStudioError],
    what: str = "file",
    follow_symlinks: bool = True,
) -> os.stat_result:
    """``stat`` of ``path``, or ``error`` when it is missing or not a regular file.

    Opening a FIFO blocks and reading a device never ends, so this runs before any ``open``.
    """
    path = Path(path)
    try:
        info = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError as exc:
        raise error(f"{what} not found: {path}") from exc
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {path} is {_kind(info.st_mode)}, not a regular file")
    return info


def _too_large(path: Path, what: str, limit: int) -> str:
    return f"{what} {path} is larger than {limit // MIB} MiB: too large to be genuine, not read"


def read_limited(
    path: str | os.PathLike,
    limit: int,
    error: type[SegStudioError],
    what: str = "file",
    follow_symlinks: bool = True,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them, else ``error``.

    ``what`` names the kind of file in messages ("class file", "labelme file"...).
    ``follow_symlinks=False`` refuses a symbolic link (the app's own state is never read
    through one).
    """
    path = Path(path)
    info = check_regular_file(path, error, what, follow_symlinks)
    if info.st_size > limit:
        raise error(_too_large(path, what, limit))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between stat and open
            raise error(f"{what} {path} is not a regular file")
        return _read_fd(fd, path, limit, error, what)
    finally:
        os.close(fd)


def _read_fd(fd: int, path: Path, limit: int, error: type[SegStudioError], what: str) -> bytes:
    """Read ``fd`` to its end in chunks, refusing to go past ``limit`` (a file may grow)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        except OSError as exc:
            raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise error(_too_large(path, what, limit))
