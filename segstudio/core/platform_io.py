"""The few things segstudio does differently on Windows, macOS and Linux, each in one small function.

Everything platform-dependent in the package goes through here, so that each branch can be tested
on any machine: the functions read :data:`PLATFORM` when called, and the tests switch it (to
``"win32"``, ``"darwin"``, ``"linux"``) to run every branch on Linux. Whether a process lives is the
``kill(pid, 0)`` probe on POSIX and psutil on Windows; when it started is psutil everywhere, which
knows each system's own calls (``GetProcessTimes`` on Windows, ``sysctl`` on macOS, ``/proc`` on
Linux). Nothing here ever sends a signal on Windows, where ``os.kill(pid, 0)`` is not a probe but
sends ``CTRL_C_EVENT`` to the process group (and any other number terminates the process).
A test of the suite (tests/core/test_platform_io.py) forbids ``os.kill`` and ``/proc`` anywhere
else in the package.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import stat
import sys
import time
from pathlib import Path

import psutil

PLATFORM = sys.platform  # the platform these functions take this to be ("win32", "darwin", "linux")


def is_windows() -> bool:
    return PLATFORM == "win32"


def is_linux() -> bool:
    return PLATFORM.startswith("linux")


# ------------------------------------------------------------------------------------ processes


def process_alive(pid: int) -> bool:
    """True while process ``pid`` exists on this machine (another user's included).

    POSIX: ``kill(pid, 0)``, the probe signal 0 that delivers nothing; ``EPERM`` means alive,
    another user's. (psutil's ``pid_exists`` would look the pid up in ``/proc`` as well, where a
    ``hidepid`` mount hides other users' processes: their lock would look stale.) Windows: psutil
    opens the process (``OpenProcess``); never a signal there.
    """
    if pid <= 0:
        return False
    if not is_windows():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        psutil.Process(pid)
    except psutil.AccessDenied:  # exists, but belongs to another user
        return True
    except psutil.Error:  # NoSuchProcess (and ZombieProcess, its subclass)
        return False
    return True


def process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None where it cannot be told (gone,
    another user's on a system that hides it). Compared with a lock's start time, it tells a reused
    pid from the process that took the lock, on every platform (Linux: ``/proc``, through psutil)."""
    if pid <= 0:
        return None
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError, ValueError):
        return None


def writer_may_live(host: str, pid: int, started: float) -> bool:
    """True unless the process that wrote a record (a lock, a claim: its host, pid and start time)
    is provably gone: another host's counts as alive (nothing here can ask it); on this host a
    dead pid, or a pid that a later process took over (it started more than 2 s after the record
    says), is gone. Never a signal on Windows (:func:`process_alive`)."""
    if host != socket.gethostname():
        return True
    if not process_alive(pid):
        return False
    now_started = process_start(pid)
    return now_started is None or now_started <= started + 2.0


def available_memory() -> int | None:
    """Bytes of memory available now without swapping, or None when the system will not say
    (``os.sysconf("SC_AVPHYS_PAGES")`` exists on Linux only; psutil knows macOS and Windows too)."""
    try:
        return int(psutil.virtual_memory().available)
    except (psutil.Error, OSError, RuntimeError):
        return None


# ----------------------------------------------------------------------------------------- files

# Windows refuses to replace a file that another process holds open without FILE_SHARE_DELETE (an
# antivirus scanning the mask just written, the search indexer, a viewer): ERROR_SHARING_VIOLATION
# (32), ERROR_ACCESS_DENIED (5, also what a file pending deletion gives) or ERROR_LOCK_VIOLATION (33),
# all raised as PermissionError. They pass within a moment, so the rename is tried again.
SHARING_VIOLATIONS = (32, 5, 33)
REPLACE_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8)  # about 1.6 s in all, then the error stands
_sleep = time.sleep  # the tests count the waits instead of waiting


def replace_file(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """``os.replace(source, target)`` (atomic on every platform), tried again on Windows for a
    moment while another process holds ``target`` open. Elsewhere a PermissionError is a real
    refusal (the folder is read-only) and is raised at once."""
    if is_windows():
        for delay in REPLACE_DELAYS:
            try:
                os.replace(source, target)
                return
            except PermissionError as exc:
                if getattr(exc, "winerror", None) not in SHARING_VIOLATIONS:
                    raise
            _sleep(delay)
    os.replace(source, target)


def fsync_folder(folder: str | os.PathLike) -> None:
    """Persist a rename in ``folder`` (POSIX: fsync of the folder itself). Windows cannot open a
    folder as a file and persists the rename with the file system's own journal: nothing to do."""
    if is_windows():
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems (network shares) refuse: the rename is done all the same
        pass
    finally:
        os.close(fd)


def new_file_mode(target: str | os.PathLike) -> int | None:
    """The permission bits a file written in place of ``target`` should get (those ``target`` has,
    else those a plain ``open`` would give: 0o666 less the umask), or None on Windows, where a file
    has no such bits (only a read-only flag, which a new file does not have)."""
    if is_windows():
        return None
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~umask()


def umask() -> int:
    """The process umask, read without changing it where the system tells it: Linux's
    ``/proc/self/status``. Elsewhere (macOS, or Linux without /proc mounted) it is measured once
    with ``os.umask``, which sets it: see :func:`_measured_umask`."""
    if is_linux():
        with contextlib.suppress(OSError, ValueError):
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("Umask:"):
                        return int(line.split()[1], 8)
    return _measured_umask()


@functools.cache
def _measured_umask() -> int:
    """``os.umask`` can only be read by setting it; it is set to the strict 0o077 for the two calls,
    so that a file another thread creates in between is made more private, never more open. Once
    per process: the umask of a desktop program does not change while it runs."""
    current = os.umask(0o077)
    os.umask(current)
    return current


WINDOWS_MAX_PATH = 260  # characters, the final NUL included: a path of 260 or more is refused


def path_too_long(path: str | os.PathLike) -> bool:
    """True on Windows for a path that Windows refuses: 260 characters or more, unless long paths
    are enabled (Windows 10 1607 and later, the ``LongPathsEnabled`` setting; Python itself is ready
    for them). Never elsewhere: Linux and macOS take paths of thousands of characters."""
    return is_windows() and len(os.fspath(path)) >= WINDOWS_MAX_PATH and not _long_paths_enabled()


@functools.cache
def _long_paths_enabled() -> bool:
    """Windows' ``LongPathsEnabled`` machine setting (read once; False where it cannot be read)."""
    if sys.platform != "win32":  # the real platform: winreg exists on Windows only
        return False
    try:
        import winreg

        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem")
        with key:
            return bool(winreg.QueryValueEx(key, "LongPathsEnabled")[0])
    except OSError:
        return False


def home_folder() -> Path | None:
    """The user's home folder, or None where there is none (``HOME`` unset and no account entry, a
    service account, ``USERPROFILE`` missing on Windows): ``Path.home()`` raises then, and callers
    choose another place or go without."""
    try:
        home = Path.home()
    except (RuntimeError, KeyError, OSError):
        return None
    return home if home.is_absolute() else None
