"""One writer per project: a second window opens it read-only and writes nothing; a stale lock is
taken over, another host's lock respected; the lock goes on close and when another project opens."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segstudio.core import journal, project_lock
from segstudio.core.masks import read_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_helpers import close, drag, flush  # noqa: E402
from gui_project import make_project  # noqa: E402
from state_helpers import checksums, fake_dialogs, make_window, settings  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]


def paint(window, cls=1, y=20):
    window.select_class(cls)
    window.tools.set_brush_size(5)
    drag(window.canvas, [(10, y), (40, y)])


def user_files(folder: Path) -> dict[str, str]:
    return {k: v for k, v in checksums(folder).items() if "/.segstudio/" not in k}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_lock(folder: Path, pid: int, host: str) -> Path:
    path = project_lock.lock_path(folder)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": host, "started": time.time() - 60, "token": "x"}))
    return path


def test_second_window_is_read_only_and_writes_nothing(tmp_path, make_window, fake_dialogs):
    folder = make_project(tmp_path / "project")
    first = make_window(folder)
    paint(first)
    first.save()
    flush(first)
    owner = json.loads(project_lock.lock_path(folder).read_text())
    assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname() and owner["started"] > 0
    before = user_files(folder)
    second = make_window(folder)
    message = f"read-only: open in another window (pid {os.getpid()}"
    assert second.session.read_only.startswith(message)
    assert second.status_labels["save"].text().startswith(message)
    paint(second, cls=2, y=40)
    second.save()
    second.session.flush()
    flush(second)
    assert second.status_labels["save"].text().startswith(message)
    fake_dialogs.text_answer = "kitten"
    assert not second.class_editor.rename(1)
    assert not second.class_editor.move(1, 1)
    assert not second.class_editor.delete(2)
    assert sum(name == "error" and "read-only" in args[2] for name, args in fake_dialogs.calls) == 3
    assert user_files(folder) == before  # no mask, XML, classes.txt or recovery copy written
    paint(first, cls=3, y=50)  # the first window still writes
    first.save()
    flush(first)
    assert read_mask(folder / "img1.png")[50, 20] == 3


def test_lock_is_released_on_close_and_on_opening_another_project(tmp_path, make_window):
    folder, other = make_project(tmp_path / "project"), make_project(tmp_path / "other")
    window = make_window(folder)
    lock = project_lock.lock_path(folder)
    assert lock.is_file()
    window.open_project(other)
    assert not lock.exists()
    # An empty .segstudio is not left behind; it stays only for what it holds (the recorded classes).
    assert not lock.parent.exists() or any(lock.parent.iterdir())
    assert project_lock.lock_path(other).is_file()
    close(window)
    assert not project_lock.lock_path(other).exists()
    again = make_window(folder)
    assert again.session.read_only is None


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, make_window):
    folder = make_project(tmp_path / "project")
    path = write_lock(folder, dead_pid(), socket.gethostname())
    window = make_window(folder)
    assert window.session.read_only is None
    assert json.loads(path.read_text())["pid"] == os.getpid()
    paint(window)
    window.save()
    flush(window)
    assert read_mask(folder / "img1.png")[20, 20] == 1


def test_lock_of_another_host_is_respected(tmp_path, make_window):
    folder = make_project(tmp_path / "project")
    path = write_lock(folder, 1, "some-other-host.example")
    window = make_window(folder)
    assert "some-other-host.example" in window.session.read_only and str(path) in window.session.read_only
    assert json.loads(path.read_text())["host"] == "some-other-host.example"  # not taken over
    before = user_files(folder)
    paint(window)
    window.save()
    flush(window)
    assert user_files(folder) == before


def test_lock_held_by_another_process(tmp_path, make_window):
    """A live process on this host holds the lock: read-only, and its rewrite journal and
    temporaries are not touched by this opener (they may be its live work)."""
    folder = make_project(tmp_path / "project")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from segstudio.core import project_lock as l; "
         f"l.acquire({str(folder)!r}); print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        temp = folder / ".classes.txt.abcdefgh.remap"
        temp.write_text("background\nnew\n")
        journal.write_journal(folder, [(temp, folder / "classes.txt")])
        before = checksums(folder)
        window = make_window(folder)
        assert f"pid {holder.pid}" in window.session.read_only
        assert checksums(folder) == before
    finally:
        holder.stdin.close()
        holder.wait(10)
    close(window)
    assert make_window(folder).session.project.classes.names == ["background", "new"]  # now finished


def test_acquire_is_exclusive_and_release_keeps_a_taken_over_lock(tmp_path):
    folder = make_project(tmp_path / "project")
    first = project_lock.acquire(folder)
    with pytest.raises(project_lock.ProjectLocked):
        project_lock.acquire(folder)
    project_lock._HELD.discard(first.owner.token)  # as if its window had crashed: stale
    second = project_lock.acquire(folder)
    first.release()  # must not remove the lock that is no longer its own
    assert json.loads(project_lock.lock_path(folder).read_text())["token"] == second.owner.token
    second.release()
    assert not project_lock.lock_path(folder).exists()


def test_lock_of_a_reused_pid_is_stale(tmp_path):
    """The pid is alive but its process started after the lock was written: another program."""
    folder = make_project(tmp_path / "project")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = write_lock(folder, other.pid, socket.gethostname())  # "started" an hour ago
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "started": time.time() - 3600}))
        lock = project_lock.acquire(folder)
        lock.release()
        write_lock(folder, other.pid, socket.gethostname())
        path.write_text(json.dumps({**data, "started": time.time()}))  # written after it started
        with pytest.raises(project_lock.ProjectLocked):
            project_lock.acquire(folder)
    finally:
        other.kill()
        other.wait()


def test_cli_import_respects_the_lock_and_training_is_refused_read_only(tmp_path, make_window, capsys):
    from segstudio.cli.main import main

    folder = make_project(tmp_path / "project")
    source = tmp_path / "labelme"
    source.mkdir()
    from PIL import Image
    Image.new("RGB", (8, 6)).save(source / "a.jpg")
    shape = {"label": "cat", "points": [[1, 1], [5, 4]], "shape_type": "rectangle"}
    document = {"shapes": [shape], "imagePath": "a.jpg", "imageHeight": 6, "imageWidth": 8}
    (source / "a.json").write_text(json.dumps(document))
    first = make_window(folder)
    before = checksums(folder)
    assert main(["import-labelme", str(source), str(folder)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"open in another window (pid {os.getpid()}" in err[0]
    assert checksums(folder) == before
    second = make_window(folder)
    assert not second.model_features.train_dock.start()
    assert checksums(folder) == before
    close(first)
    assert main(["import-labelme", str(source), str(folder)]) == 0
    assert read_mask(folder / "a.png")[2, 2] == 1
    assert not project_lock.lock_path(folder).exists()


def test_read_only_window_leaves_models_and_training_snapshots_alone(tmp_path, make_window, fake_dialogs):
    folder = make_project(tmp_path / "project")
    model = folder / "models" / "mine"
    model.mkdir(parents=True)
    (model / "model.safetensors").write_bytes(b"weights")
    first = make_window(folder)
    live_run = folder / ".segstudio" / "train-snapshot-abc"  # the first window's run, going on
    live_run.mkdir()
    (live_run / "img1.png").write_bytes(b"frozen mask")
    before = checksums(folder)
    second = make_window(folder)
    assert "[read-only]" in second.windowTitle()
    dock = second.model_features.models_dock
    dock.refresh()
    dock.tree.setCurrentItem(dock.tree.topLevelItem(0))
    dock.delete_selected()
    dock.use_selected()
    assert sum(name == "error" and "read-only" in args[2] for name, args in fake_dialogs.calls) == 2
    assert checksums(folder) == before
    close(first)
