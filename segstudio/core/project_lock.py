"""The project-wide lock: ``<save_dir>/.segstudio/lock``, held for the duration of a change to the
whole project (a class rewrite, an import, a clean-up over every mask: see ``core.exclusive``;
editing one image only claims that image, ``core.claims``).

A class rewrite in one window would be "finished" (or its temporaries swept away) by another
window opening the project, and an import would change masks under their editors. So such a
change takes a lock file, created atomically (``O_CREAT | O_EXCL``) and holding
its pid, host name, start time and a random token; a window opening the project meanwhile sees who holds
it and opens the project read-only. A lock whose process is gone (same host, pid not alive) is stale and taken over;
a lock from another host is respected, since its process cannot be checked from here (the message
names the file to delete once that machine is done).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from . import platform_io
from .errors import SaveError, SegStudioError
from .paths import STATE_FOLDER, is_regular_file, own_folder
from .safe_read import read_json

LOCK_LIMIT = 64 * 1024  # a genuine lock is about 150 bytes
MAX_PID = 2**31 - 1  # pids are C ints everywhere (Linux caps them at 2**22)
MAX_HOST = 255  # a host name is at most 255 characters (RFC 1035)
LATEST_START = 2**33  # seconds since the epoch: the year 2242; later is not a real start time

LOCK_NAME = "lock"
FRESH_SECONDS = 5.0  # an unreadable lock this young may be being written right now: respected
_HELD: set[str] = set()  # tokens of the locks this process holds (one per window)


@dataclass(frozen=True)
class LockOwner:
    """Who holds a project's lock."""

    pid: int
    host: str
    started: float
    token: str = ""

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started)) if self.started else "?"
        here = "" if self.host == socket.gethostname() else f" on {printable(self.host)}"
        return f"pid {self.pid}{here}, since {when}"

    @classmethod
    def from_json(cls, data: object) -> LockOwner | None:
        """The owner a lock file's JSON names, or None when a field is missing, of the wrong type or
        out of range (a received project's lock may hold anything: a pid of 10**30 would overflow
        the system's process calls, a start time of 1e300 ``time.localtime``)."""
        if not isinstance(data, dict):
            return None
        pid, host, started, token = (data.get(k) for k in ("pid", "host", "started", "token"))
        if type(pid) is not int or not 0 < pid <= MAX_PID:
            return None
        if not isinstance(host, str) or not 0 < len(host) <= MAX_HOST:
            return None
        if isinstance(started, bool) or not isinstance(started, (int, float)):
            return None
        if not (math.isfinite(started) and 0 <= started <= LATEST_START):
            return None
        token = token if isinstance(token, str) and len(token) <= 64 else ""
        return cls(pid, host, float(started), token)


def printable(text: str) -> str:
    """``text`` with every character that is not printable (terminal escape codes, newlines) shown
    as its ``\\x``/``\\u`` escape, so that a host name read from a file cannot drive a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ProjectLocked(SegStudioError):
    """Another window or process has the project open for writing."""

    def __init__(self, path: Path, owner: LockOwner | None) -> None:
        self.path, self.owner = path, owner
        who = owner.describe() if owner is not None else "a process that is starting"
        hint = f" (delete {path} if that machine no longer uses it)" if owner and _remote(owner) else ""
        super().__init__(f"a project-wide change runs in another window or command ({who}){hint}")


class ProjectLock:
    """A lock this process holds; :meth:`release` it on close or when another project opens."""

    def __init__(self, save_dir: Path, path: Path, owner: LockOwner) -> None:
        self.save_dir, self.path, self.owner = save_dir, path, owner

    def release(self) -> None:
        """Remove the lock file if it is still ours (never another opener's after a takeover)."""
        _HELD.discard(self.owner.token)
        current = read_owner(self.path)
        if current is not None and current.token == self.owner.token:
            try:
                os.unlink(self.path)
                os.rmdir(self.path.parent)  # only when empty: a project that had none keeps none
            except OSError:
                pass


def lock_path(save_dir: str | os.PathLike) -> Path:
    return Path(save_dir).resolve() / STATE_FOLDER / LOCK_NAME


def acquire(save_dir: str | os.PathLike) -> ProjectLock:
    """Take the project's lock; :class:`ProjectLocked` when a live owner holds it, SaveError when the
    lock cannot be written (read-only folder, a linked state folder)."""
    save_dir = Path(save_dir).resolve()
    path = own_folder(save_dir, STATE_FOLDER, create=True) / LOCK_NAME
    owner = LockOwner(os.getpid(), socket.gethostname(), time.time(), uuid.uuid4().hex)
    for _ in range(3):  # a stale lock is removed, then the creation tried again
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            current = read_owner(path)
            if (current is None and _is_fresh(path)) or (current is not None and is_alive(current)):
                raise ProjectLocked(path, current) from None
            _remove(path)
            continue
        except OSError as exc:
            raise SaveError(f"cannot create the project lock {path}: {exc.strerror or exc}") from exc
        _write_owner(fd, path, owner)
        _HELD.add(owner.token)
        return ProjectLock(save_dir, path, owner)
    raise ProjectLocked(path, read_owner(path))


def _write_owner(fd: int, path: Path, owner: LockOwner) -> None:
    """Write the owner into the new lock file ``fd``; on failure (a full disk) remove the file again,
    so that no empty lock is left to look like one being written, and raise SaveError."""
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(owner), handle)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise SaveError(f"cannot write the project lock {path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def locked(save_dir: str | os.PathLike) -> Iterator[ProjectLock | None]:
    """Hold the project's lock while a command writes into it (the CLI); SaveError naming the
    owner when a window or another command has the project open. A save folder that does not exist
    yet is open nowhere: nothing is created for the lock (the command makes the folder if it must)."""
    if not Path(save_dir).is_dir():
        yield None
        return
    try:
        lock = acquire(save_dir)
    except ProjectLocked as exc:
        raise SaveError(f"cannot write into {save_dir}: the project is {exc}") from None
    try:
        yield lock
    finally:
        lock.release()


def held_elsewhere(save_dir: str | os.PathLike) -> LockOwner | None:
    """The live owner of the project's lock when it is another process (or host), else None."""
    path = lock_path(save_dir)
    if os.path.islink(path.parent):
        return None
    owner = read_owner(path)
    if owner is None or (owner.pid == os.getpid() and not _remote(owner)):
        return None
    return owner if is_alive(owner) else None


def read_owner(path: Path) -> LockOwner | None:
    """The owner recorded in a lock file, or None when there is none or it cannot be read."""
    if not is_regular_file(path):
        return None
    try:  # bounded and never through a link: a received project may hold a 6 GiB "lock"
        data = read_json(path, LOCK_LIMIT, SegStudioError, "project lock", follow_symlinks=False)
    except SegStudioError:
        return None
    return LockOwner.from_json(data)


def is_alive(owner: LockOwner) -> bool:
    """True unless the owner is provably gone: a dead pid on this host, a pid that a later process
    took over (it started after the lock was written), or a lock of this very process that no window
    holds any more. Another host's owner counts as alive. Asked through ``core.platform_io``, which
    never signals a process (on Windows ``os.kill(pid, 0)`` would interrupt the other window)."""
    if owner.pid == os.getpid() and not _remote(owner):
        return owner.token in _HELD
    return platform_io.writer_may_live(owner.host, owner.pid, owner.started)


def _remote(owner: LockOwner) -> bool:
    return owner.host != socket.gethostname()


def _is_fresh(path: Path) -> bool:
    try:  # a modification time in the future (a received archive, a wrong clock) is not "young"
        return 0 <= time.time() - os.lstat(path).st_mtime < FRESH_SECONDS
    except OSError:
        return False


def _remove(path: Path) -> None:
    """Remove a stale lock (a link is removed itself, never followed)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SaveError(f"cannot remove the stale project lock {path}: {exc.strerror or exc}") from exc
