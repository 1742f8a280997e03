"""Several windows on one project: each image has one editor (its claim), a second window is a second
annotator; a claim of a dead process is taken over, another host's respected; claims go on close and
when another project opens. The project-wide lock (held only by a change of the whole project, or a
command) makes an opening window read-only, and a stale one is taken over."""

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
from gui_helpers import close, drag, flush, wait_loaded  # noqa: E402
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


def write_claim(folder: Path, stem: str, pid: int, host: str) -> Path:
    from segstudio.core.claims import claim_name, claims_folder
    path = claims_folder(folder, create=True) / claim_name(stem)
    path.write_text(json.dumps({"stem": stem, "person": "bob", "host": host, "pid": pid, "started": time.time() - 60,
                                "token": "x" * 32, "since": time.time() - 60, "beat": 3, "beat_time": time.time()}))
    return path


def test_second_window_is_a_second_annotator(tmp_path, make_window, fake_dialogs):
    folder = make_project(tmp_path / "project")
    first = make_window(folder)
    paint(first)
    first.save()
    flush(first)
    assert not project_lock.lock_path(folder).exists()  # editing holds no project-wide lock
    before = user_files(folder)
    second = make_window(folder)  # img1 is the first window's: shown read-only, with who and since when
    message = "read-only: taken by "
    assert second.session.read_only is None and second.session.taken.startswith(message)
    assert second.status_labels["save"].text().startswith(message)
    assert "[read-only]" in second.windowTitle()
    paint(second, cls=2, y=40)
    second.save()
    second.session.flush()
    flush(second)
    assert second.status_labels["save"].text().startswith(message)
    fake_dialogs.text_answer = "kitten"  # class edits change every mask: refused while the first edits
    assert not second.class_editor.rename(1)
    flush(second)
    assert second.class_editor.add() is None
    assert sum(name == "error" and "editing images" in args[2] for name, args in fake_dialogs.calls) == 2
    assert user_files(folder) == before  # no mask, XML, classes.txt or recovery copy written
    second.go(1)  # D: the next image, free
    assert wait_loaded(second) and second.session.index == 1 and second.session.taken is None
    paint(second, cls=2, y=40)
    second.save()
    flush(second)
    assert read_mask(folder / "img2.png")[40, 20] == 2
    paint(first, cls=3, y=50)  # the first window still writes its own
    first.save()
    flush(first)
    assert read_mask(folder / "img1.png")[50, 20] == 3
    close(second)
    close(first)


def test_claims_go_on_close_and_on_opening_another_project(tmp_path, make_window):
    from segstudio.core.claims import ClaimBook
    folder, other = make_project(tmp_path / "project"), make_project(tmp_path / "other")
    window = make_window(folder)
    assert ClaimBook(folder, "x").holder("img1") is not None
    window.open_project(other)
    assert wait_loaded(window)
    flush(window)
    assert ClaimBook(folder, "x").holder("img1") is None
    assert ClaimBook(other, "x").holder("img1") is not None
    close(window)
    assert ClaimBook(other, "x").holder("img1") is None
    again = make_window(folder)
    assert again.session.read_only is None and again.session.taken is None


def test_claim_of_a_dead_process_is_taken_over(tmp_path, make_window):
    folder = make_project(tmp_path / "project")
    path = write_claim(folder, "img1", dead_pid(), socket.gethostname())
    window = make_window(folder)
    assert window.session.taken is None
    assert json.loads(path.read_text())["pid"] == os.getpid()
    paint(window)
    window.save()
    flush(window)
    assert read_mask(folder / "img1.png")[20, 20] == 1


def test_claim_of_another_host_is_respected(tmp_path, make_window):
    folder = make_project(tmp_path / "project")
    path = write_claim(folder, "img1", 1, "some-other-host.example")
    window = make_window(folder)
    assert "bob on some-other-host.example" in window.session.taken
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


def test_cli_import_is_refused_while_a_window_edits(tmp_path, make_window, capsys):
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
    assert len(err) == 1 and "(img1) is editing images of this project" in err[0]
    assert checksums(folder) == before
    close(first)
    assert main(["import-labelme", str(source), str(folder)]) == 0
    assert read_mask(folder / "a.png")[2, 2] == 1
    assert not project_lock.lock_path(folder).exists()


def test_second_window_leaves_the_first_windows_training_snapshot_alone(tmp_path, make_window, fake_dialogs):
    folder = make_project(tmp_path / "project")
    first = make_window(folder)
    live_run = folder / ".segstudio" / "train-snapshot-abc"  # the first window's run, going on
    live_run.mkdir()
    (live_run / "img1.png").write_bytes(b"frozen mask")
    second = make_window(folder)
    assert second.session.read_only is None
    assert (live_run / "img1.png").read_bytes() == b"frozen mask"
    close(second)
    close(first)
