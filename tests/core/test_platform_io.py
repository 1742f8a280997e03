"""Every branch of core.platform_io, run here by switching the platform it sees (Windows, macOS,
Linux); the project lock on each; and no ``os.kill`` nor ``/proc`` anywhere else in the package."""

from __future__ import annotations

import ast
import builtins
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from segstudio.core import atomic, platform_io, project_lock

PLATFORMS = ("linux", "darwin", "win32")
PACKAGE = Path(__file__).resolve().parents[2] / "segstudio"


@pytest.fixture(params=PLATFORMS)
def system(request, monkeypatch) -> str:
    """The platform the functions see, one test run per platform."""
    monkeypatch.setattr(platform_io, "PLATFORM", request.param)
    platform_io._measured_umask.cache_clear()
    yield request.param
    platform_io._measured_umask.cache_clear()


@pytest.fixture
def windows(monkeypatch) -> None:
    monkeypatch.setattr(platform_io, "PLATFORM", "win32")


@pytest.fixture
def no_signals():
    """``os.kill`` raises: on Windows it is no probe (signal 0 is CTRL_C_EVENT). psutil calls the
    same ``os.kill``, so a probe of psutil's would be caught as well. Put back before the test's child
    processes are killed (request it after ``sleeper``)."""
    def forbidden(*args):
        raise AssertionError(f"os.kill{args} sent on Windows")
    real, os.kill = os.kill, forbidden
    yield
    os.kill = real


@pytest.fixture
def sleeper():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ------------------------------------------------------------------------------------ processes


def test_process_alive_on_every_platform(system, sleeper):
    assert platform_io.process_alive(sleeper.pid)
    assert platform_io.process_alive(1)  # init: another user's process is alive, not "gone"
    assert not platform_io.process_alive(dead_pid())
    assert not platform_io.process_alive(0) and not platform_io.process_alive(-5)


def test_windows_liveness_never_sends_a_signal(windows, sleeper, no_signals):
    assert platform_io.process_alive(sleeper.pid)
    assert not platform_io.process_alive(dead_pid())
    assert platform_io.process_start(sleeper.pid) is not None


def test_posix_liveness_is_the_signal_free_kill_probe(monkeypatch, sleeper):
    """On POSIX the probe is ``kill(pid, 0)``: signal 0, which delivers nothing."""
    monkeypatch.setattr(platform_io, "PLATFORM", "darwin")
    sent = []
    real_kill = os.kill
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append(sig) or real_kill(pid, sig))
    assert platform_io.process_alive(sleeper.pid)
    assert sent == [0]


@pytest.mark.parametrize("posix", ["linux", "darwin"])
def test_posix_liveness_takes_another_users_process_for_alive(monkeypatch, posix):
    """EPERM: the process exists but is not ours to signal (even where /proc hides it: hidepid)."""
    monkeypatch.setattr(platform_io, "PLATFORM", posix)

    def refuse(pid, sig):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "kill", refuse)
    assert platform_io.process_alive(4242)

    def gone(pid, sig):
        raise ProcessLookupError(3, "No such process")
    monkeypatch.setattr(os, "kill", gone)
    assert not platform_io.process_alive(4242)


def test_process_start_on_every_platform(system, sleeper):
    started = platform_io.process_start(sleeper.pid)
    assert started is not None and abs(started - psutil.Process(sleeper.pid).create_time()) < 1e-6
    assert started <= time.time() + 1  # a start time, not a duration
    assert platform_io.process_start(dead_pid()) is None
    assert platform_io.process_start(0) is None


def test_available_memory(monkeypatch):
    assert platform_io.available_memory() > 0

    def broken():
        raise OSError("no /proc/meminfo")
    monkeypatch.setattr(psutil, "virtual_memory", broken)
    assert platform_io.available_memory() is None


# ------------------------------------------------------------------------------- the project lock


def write_lock(folder: Path, pid: int, started: float) -> Path:
    path = project_lock.lock_path(folder)
    path.parent.mkdir(exist_ok=True)
    owner = {"pid": pid, "host": socket.gethostname(), "started": started, "token": "x"}
    path.write_text(json.dumps(owner))
    return path


def test_lock_on_windows_tells_live_dead_and_reused_pids_without_a_signal(tmp_path, windows, sleeper,
                                                                          no_signals):
    folder = tmp_path / "project"
    folder.mkdir()
    write_lock(folder, sleeper.pid, time.time() + 5)  # written after its process started: held
    with pytest.raises(project_lock.ProjectLocked):
        project_lock.acquire(folder)
    assert project_lock.held_elsewhere(folder) is not None
    write_lock(folder, sleeper.pid, time.time() - 3600)  # its pid now runs a later program: stale
    project_lock.acquire(folder).release()
    write_lock(folder, dead_pid(), time.time() - 60)  # its process is gone: stale
    lock = project_lock.acquire(folder)
    assert project_lock.held_elsewhere(folder) is None
    lock.release()
    assert not project_lock.lock_path(folder).exists()


def test_lock_liveness_on_every_platform(tmp_path, system, sleeper):
    folder = tmp_path / "project"
    folder.mkdir()
    write_lock(folder, sleeper.pid, time.time() + 5)
    assert project_lock.is_alive(project_lock.read_owner(project_lock.lock_path(folder)))
    write_lock(folder, dead_pid(), time.time())
    assert not project_lock.is_alive(project_lock.read_owner(project_lock.lock_path(folder)))


# ----------------------------------------------------------------------------------------- files


def sharing_violation(winerror: int = 32) -> PermissionError:
    """The PermissionError Windows raises while another process holds the file (``winerror`` is set
    by hand: Python gives it to OSError on Windows only)."""
    error = PermissionError(13, "The process cannot access the file because it is being used by another process")
    error.winerror = winerror
    return error


@pytest.fixture
def flaky_replace(monkeypatch):
    """``os.replace`` refused ``failures[0]`` times (a scanner holding the target), then done;
    the waits are counted, not waited."""
    real = os.replace
    state = {"failures": 0, "calls": 0, "waits": [], "error": sharing_violation()}

    def replace(source, target):
        state["calls"] += 1
        if state["calls"] <= state["failures"]:
            raise state["error"]
        real(source, target)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(platform_io, "_sleep", state["waits"].append)
    return state


def files(tmp_path: Path) -> tuple[Path, Path]:
    source, target = tmp_path / "new", tmp_path / "old"
    source.write_text("new")
    target.write_text("old")
    return source, target


def test_replace_file_waits_for_a_sharing_violation_on_windows(tmp_path, windows, flaky_replace):
    source, target = files(tmp_path)
    flaky_replace["failures"] = 2
    platform_io.replace_file(source, target)
    assert target.read_text() == "new" and not source.exists()
    assert flaky_replace["waits"] == list(platform_io.REPLACE_DELAYS[:2])


@pytest.mark.parametrize("winerror", [5, 33])
def test_replace_file_gives_up_after_its_retries_on_windows(tmp_path, windows, flaky_replace, winerror):
    source, target = files(tmp_path)
    flaky_replace.update(failures=100, error=sharing_violation(winerror))
    with pytest.raises(PermissionError):
        platform_io.replace_file(source, target)
    assert flaky_replace["calls"] == len(platform_io.REPLACE_DELAYS) + 1
    assert target.read_text() == "old" and source.read_text() == "new"


def test_replace_file_raises_other_refusals_at_once_on_windows(tmp_path, windows, flaky_replace):
    source, target = files(tmp_path)
    flaky_replace.update(failures=100, error=PermissionError(13, "read-only folder"))  # no winerror
    with pytest.raises(PermissionError):
        platform_io.replace_file(source, target)
    assert flaky_replace["calls"] == 1 and flaky_replace["waits"] == []


@pytest.mark.parametrize("posix", ["linux", "darwin"])
def test_replace_file_never_retries_on_posix(tmp_path, monkeypatch, flaky_replace, posix):
    monkeypatch.setattr(platform_io, "PLATFORM", posix)
    source, target = files(tmp_path)
    flaky_replace["failures"] = 1
    with pytest.raises(PermissionError):  # a real refusal there: said at once
        platform_io.replace_file(source, target)
    assert flaky_replace["waits"] == []
    platform_io.replace_file(source, target)
    assert target.read_text() == "new"


def test_atomic_save_survives_a_scanner_on_windows(tmp_path, windows, flaky_replace):
    target = tmp_path / "mask.png"
    target.write_bytes(b"old")
    flaky_replace["failures"] = 3
    atomic.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["mask.png"]  # no temporary left


def test_fsync_folder_on_every_platform(tmp_path, system, monkeypatch):
    opened, synced = [], []
    real_open, real_fsync = os.open, os.fsync
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    platform_io.fsync_folder(tmp_path)
    if system == "win32":  # a folder cannot be opened as a file there: nothing tried
        assert opened == [] and synced == []
    else:
        assert opened == [tmp_path] and len(synced) == 1
    platform_io.fsync_folder(tmp_path / "missing")  # never raises


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_new_file_mode_on_every_platform(tmp_path, system, umask_027):
    shared = tmp_path / "shared.png"
    shared.write_bytes(b"")
    shared.chmod(0o640)
    if system == "win32":  # no permission bits there
        assert platform_io.new_file_mode(shared) is None
        assert platform_io.new_file_mode(tmp_path / "new.png") is None
    else:
        assert platform_io.new_file_mode(shared) == 0o640
        assert platform_io.new_file_mode(tmp_path / "new.png") == 0o640  # 0o666 less the umask 0o027


def test_umask_from_proc_on_linux_and_measured_elsewhere(system, monkeypatch, umask_027):
    real_open = builtins.open
    proc_reads = []

    def spying_open(file, *args, **kwargs):
        if str(file).startswith("/proc"):
            proc_reads.append(file)
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", spying_open)
    assert platform_io.umask() == 0o027
    assert proc_reads == (["/proc/self/status"] if system == "linux" else [])
    assert os.umask(0o027) == 0o027  # measuring put it back


def test_umask_without_proc_mounted(monkeypatch, umask_027):
    monkeypatch.setattr(platform_io, "PLATFORM", "linux")
    platform_io._measured_umask.cache_clear()
    real_open = builtins.open

    def no_proc(file, *args, **kwargs):
        if str(file).startswith("/proc"):
            raise FileNotFoundError(file)
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", no_proc)
    assert platform_io.umask() == 0o027
    platform_io._measured_umask.cache_clear()


def test_atomic_write_keeps_modes_on_posix_and_writes_on_windows(tmp_path, system, umask_027):
    target = tmp_path / "classes.txt"
    target.write_text("old")
    target.chmod(0o644)
    atomic.atomic_write_text(target, "new")
    assert target.read_text() == "new"
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == (0o600 if system == "win32" else 0o644)  # Windows: mkstemp's file, bits unused there


def test_home_folder(monkeypatch):
    assert platform_io.home_folder() == Path.home()

    def no_home():
        raise RuntimeError("Could not determine home directory.")
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert platform_io.home_folder() is None


# ----------------------------------------------------------------------- nothing platform-bound elsewhere


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (they may name ``/proc`` to explain)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def platform_bound(tree: ast.AST) -> list[str]:
    """Calls of ``os.kill`` (or a ``kill`` imported from os) and strings naming ``/proc``."""
    docstrings, found = _docstrings(tree), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "kill" and isinstance(node.value, ast.Name) \
                and node.value.id == "os":
            found.append(f"line {node.lineno}: os.kill")
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(a.name == "kill" for a in node.names):
            found.append(f"line {node.lineno}: from os import kill")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "/proc" in node.value \
                and id(node) not in docstrings:  # f-strings too: their text parts are constants
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def test_os_kill_and_proc_only_in_the_platform_module():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "platform_io.py" and path.parent.name == "core":
            continue
        found = platform_bound(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if found:
            offenders[str(path.relative_to(PACKAGE.parent))] = found
    assert offenders == {}, "use segstudio.core.platform_io instead"


def test_the_check_finds_what_it_forbids():
    source = 'import os\nos.kill(1, 0)\nfrom os import kill\nopen("/proc/self/status")\nf"/proc/{1}/stat"\n'
    assert len(platform_bound(ast.parse(source))) == 4
    assert platform_bound(ast.parse('"""Reads /proc on Linux."""\n')) == []


def test_path_too_long_on_windows_only_and_unless_long_paths_are_enabled(system, monkeypatch):
    long_path = "C:\\" + "x" * 300 + ".png"
    assert not platform_io.path_too_long("C:\\short.png")
    assert platform_io.path_too_long(long_path) == (system == "win32")
    monkeypatch.setattr(platform_io, "_long_paths_enabled", lambda: True)
    assert not platform_io.path_too_long(long_path)


def test_long_mask_paths_are_said_on_windows(tmp_path, windows, monkeypatch):
    from PIL import Image

    from segstudio.core.project import Project
    monkeypatch.setattr(platform_io, "_long_paths_enabled", lambda: False)
    Image.new("RGB", (8, 8)).save(tmp_path / "short.jpg")
    long_name = "p" * (platform_io.WINDOWS_MAX_PATH - len(str(tmp_path))) + ".jpg"
    Image.new("RGB", (8, 8)).save(tmp_path / long_name)
    project = Project(tmp_path, read_only=True)
    (warning,) = project.listing_warnings
    assert warning.startswith(f"{long_name}: the path of its mask") and "long paths" in warning
    monkeypatch.setattr(platform_io, "PLATFORM", "linux")
    project.refresh()
    assert project.listing_warnings == []


def test_writer_may_live_judges_host_pid_and_start_time(monkeypatch) -> None:
    import socket

    here = socket.gethostname()
    assert platform_io.writer_may_live(here + "-elsewhere", 1, 0.0)  # another host: cannot ask, alive
    monkeypatch.setattr(platform_io, "process_alive", lambda pid: pid == 42)
    monkeypatch.setattr(platform_io, "process_start", lambda pid: 1000.0)
    assert not platform_io.writer_may_live(here, 7, 1000.0)  # gone
    assert platform_io.writer_may_live(here, 42, 999.0)  # the same process (start within 2 s)
    assert not platform_io.writer_may_live(here, 42, 900.0)  # a later process took the pid over
