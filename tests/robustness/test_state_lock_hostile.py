"""A received project's ``.segstudio/lock`` may hold anything: a huge file, numbers that overflow,
terminal escape codes. None of it stops the project from opening (in the window's open flow and in
the CLI), and a full disk while the lock is written leaves no empty lock behind."""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from segstudio.application.session.open_project import open_project
from segstudio.cli.main import main
from segstudio.core import exclusive, project_lock
from segstudio.core.errors import SaveError
from segstudio.core.masks import write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, error_line, photo  # noqa: E402


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    photo(folder / "a.jpg", size=(10, 12))
    (folder / "classes.txt").write_text("background\ncat\n")
    write_mask(folder / "a.png", np.ones((10, 12), np.uint8))
    return folder


def labelme_source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    photo(src / "b.jpg", size=(10, 12))
    shape = {"label": "cat", "points": [[1, 1], [5, 5]], "shape_type": "rectangle", "flags": {}, "group_id": None}
    (src / "b.json").write_text(json.dumps({"version": "5.0.1", "flags": {}, "shapes": [shape], "imagePath": "b.jpg",
                                            "imageData": None, "imageHeight": 10, "imageWidth": 12}))
    return src


def plant_lock(folder: Path, content: bytes | None = None, **fields) -> Path:
    path = project_lock.lock_path(folder)
    path.parent.mkdir(exist_ok=True)
    if content is None:
        owner = {"pid": os.getpid() + 1, "host": socket.gethostname(), "started": time.time() - 60, "token": "x"}
        content = json.dumps({**owner, **fields}).encode()
    path.write_bytes(content)
    os.utime(path, (time.time() - 60, time.time() - 60))  # not a lock being written this very second
    return path


def user_files(folder: Path) -> dict[str, str]:
    return {k: v for k, v in checksums(folder).items() if "/.segstudio/" not in k}


HOSTILE = {
    "pid of 10**30": dict(pid=10**30),
    "negative pid": dict(pid=-5),
    "pid as text": dict(pid="1; rm -rf /"),
    "pid true": dict(pid=True),
    "start time 1e300": dict(started=1e300),
    "start time NaN": dict(started=float("nan")),
    "host a list": dict(host=["x"]),
}


@pytest.mark.parametrize("fields", list(HOSTILE.values()), ids=list(HOSTILE))
def test_lock_with_hostile_fields_is_taken_over(tmp_path, fields):
    folder = project(tmp_path)
    plant_lock(folder, **fields)
    opened = open_project(folder)  # not a live project-wide change: the window edits
    try:
        assert opened.read_only is None and opened.claims is not None
        lock = exclusive.take(folder, opened.claims, "change the classes")  # and a change takes it over
        assert project_lock.read_owner(project_lock.lock_path(folder)).pid == os.getpid()
        lock.release()
    finally:
        opened.close()


def test_huge_lock_file_is_not_read(tmp_path, capsys):
    folder = project(tmp_path)
    path = plant_lock(folder, b"")
    with open(path, "r+b") as handle:
        handle.truncate(6 * 1024**3)  # sparse: 6 GiB that would be read into memory
    os.utime(path, (time.time() - 60, time.time() - 60))
    opened = open_project(folder)
    assert opened.read_only is None and opened.claims is not None
    opened.close()
    src = labelme_source(tmp_path)
    plant_lock(folder, b"\0" * 100_000)  # too large for a lock, not young: stale
    assert main(["import-labelme", str(src), str(folder)]) == 0, capsys.readouterr().err
    assert (folder / "b.png").is_file()


def test_empty_lock_with_a_future_time_is_not_young_forever(tmp_path):
    folder = project(tmp_path)
    path = plant_lock(folder, b"")
    future = time.time() + 10 * 365 * 86400
    os.utime(path, (future, future))
    opened = open_project(folder)
    assert opened.read_only is None
    opened.close()


def test_escape_codes_in_another_hosts_lock_are_not_printed(tmp_path, capsys):
    folder = project(tmp_path)
    plant_lock(folder, host="\x1b]0;owned\x07\x1b[2J\nevil")
    opened = open_project(folder)
    assert opened.read_only is not None and "\x1b" not in opened.read_only and "\n" not in opened.read_only
    assert "\\x1b" in opened.read_only
    before = user_files(folder)
    status = main(["import-labelme", str(labelme_source(tmp_path)), str(folder)])
    line = error_line(capsys.readouterr().err)
    assert status == 1 and "\x1b" not in line and "another window" in line
    assert user_files(folder) == before


def test_full_disk_while_the_lock_is_written_opens_unlocked_and_leaves_no_lock(tmp_path, monkeypatch):
    folder = project(tmp_path)
    before = user_files(folder)

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(project_lock.os, "fsync", full)
    opened = open_project(folder)
    assert opened.lock is None and opened.read_only is None
    assert any("No space left" in w for w in opened.project.class_warnings)  # project.json not written
    with pytest.raises(SaveError, match="No space left"):  # a project-wide change says why it cannot start
        exclusive.take(folder, opened.claims, "change the classes")
    assert not project_lock.lock_path(folder).exists()
    assert len(opened.project.entries) == 1
    assert user_files(folder) == before
