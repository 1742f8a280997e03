"""application.save_queue and open_project: a queued write lands in the project it was made for,
or is refused with a message once that project is closed; the book tells what is on disk."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segstudio.application.session import save_queue
from segstudio.application.session.open_project import open_project
from segstudio.application.session.save_queue import DISCARD, RECOVERY, SAVE, SaveBook, SaveJob, run_job, state_text
from segstudio.core import project_lock
from segstudio.core.claims import ClaimBook
from segstudio.core.classes import ClassList, save_class_file
from segstudio.core.masks import read_mask


def _folder(path: Path, names=("background", "cat", "dog"), stems=("img1", "img2")) -> Path:
    path.mkdir(parents=True)
    for stem in stems:
        Image.fromarray(np.full((6, 8, 3), 90, np.uint8)).save(path / f"{stem}.jpg")
    save_class_file(path / "classes.txt", ClassList(list(names)))
    return path


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _job(opened, kind=SAVE, value=1) -> SaveJob:
    entry = opened.project.entries[0]
    label = np.full((6, 8), value, np.uint8)
    return SaveJob(kind, opened, entry, label, 0, colours=opened.project.classes.colour_table())


def test_a_job_writes_into_the_project_it_captured_even_after_another_opened(tmp_path):
    first = open_project(_folder(tmp_path / "a"))
    job = _job(first, value=2)
    second = open_project(_folder(tmp_path / "b", names=("background", "road")), held=first)
    before = _files(tmp_path / "b")
    assert run_job(job) is None
    np.testing.assert_array_equal(read_mask(tmp_path / "a" / "img1.png"), job.label)
    assert _files(tmp_path / "b") == before
    first.close()
    second.close()


def test_a_job_of_a_closed_project_is_refused_and_writes_nothing(tmp_path):
    folder = _folder(tmp_path / "a")
    opened = open_project(folder)
    job = _job(opened)
    opened.close()
    before = _files(folder)
    message = run_job(job)
    assert message is not None and "img1.jpg not saved" in message and str(folder) in message
    assert _files(folder) == before
    assert not project_lock.lock_path(folder).exists()  # the lock went with the close


def test_recovery_job_writes_a_copy_and_a_save_removes_it(tmp_path):
    folder = _folder(tmp_path / "a")
    opened = open_project(folder)
    assert run_job(_job(opened, RECOVERY)) is None
    copy = opened.recovery.path("img1")
    assert copy.exists() and not (folder / "img1.png").exists()
    assert run_job(_job(opened, SAVE)) is None
    assert not copy.exists() and (folder / "img1.png").exists()
    opened.close()


def test_discard_removes_the_copy_written_before_it_in_the_queue(tmp_path):
    folder = _folder(tmp_path / "a")
    opened = open_project(folder)
    assert run_job(_job(opened, RECOVERY)) is None
    assert run_job(_job(opened, DISCARD)) is None
    assert not opened.recovery.path("img1").exists() and not (folder / "img1.png").exists()
    opened.close()


def test_a_failing_write_returns_its_reason(tmp_path):
    folder = _folder(tmp_path / "a")
    opened = open_project(folder)
    (folder / "img1.xml").mkdir()  # the XML cannot be written there
    assert "img1.xml" in run_job(_job(opened))
    opened.close()


def test_reopening_the_same_folder_keeps_the_claims(tmp_path):
    folder = _folder(tmp_path / "a")
    first = open_project(folder)
    first.claims.claim("img1")
    second = open_project(folder, held=first)
    first.close()  # the old handle is closed: the claims were handed over, not released
    assert second.claims.holds("img1") and ClaimBook(folder, "x").holder("img1") is not None
    assert run_job(_job(second)) is None
    second.close()
    assert ClaimBook(folder, "x").holder("img1") is None
    assert not project_lock.lock_path(folder).exists()  # a window holds no project lock


def test_a_second_window_is_a_second_annotator(tmp_path):
    folder = _folder(tmp_path / "a")
    first = open_project(folder)
    other = open_project(folder)  # another window: no handle held
    assert other.read_only is None and other.lock is None and other.claims.token != first.claims.token
    first.close()
    other.close()


def test_a_project_changed_as_a_whole_elsewhere_opens_read_only(tmp_path):
    folder = _folder(tmp_path / "a")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from segstudio.core import project_lock as l; "
         f"l.acquire({str(folder)!r}); print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        other = open_project(folder)
        assert other.read_only.startswith("read-only: a project-wide change runs") and other.claims is None
        assert other.recovery.read_only
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_book_counts_writes_and_keeps_snapshots_until_written():
    book = SaveBook()
    entry = type("Entry", (), {"image_path": Path("/p/img1.jpg")})()
    job = SaveJob(SAVE, object(), entry, np.zeros((2, 2), np.uint8))
    book.submitted(job)
    assert book.outstanding == 1 and book.pending[entry.image_path] is job.label
    book.finished(job, "disk full")
    assert book.outstanding == 0 and entry.image_path in book.pending  # kept: the save failed
    assert book.generation_of(entry.image_path) == (0, 1)  # counted anyway: the file may have changed
    book.submitted(job)
    book.finished(job, None)
    assert not book.pending and book.generation_of(entry.image_path) == (0, 2)


def test_book_remaps_snapshots_when_masks_are_rewritten():
    book = SaveBook()
    path = Path("/p/img1.jpg")
    book.pending[path] = np.array([[1, 2]], np.uint8)
    lut = np.arange(256, dtype=np.uint8)
    lut[1], lut[2] = 2, 1
    book.masks_rewritten(lut)
    np.testing.assert_array_equal(book.pending[path], [[2, 1]])
    assert book.generation_of(path) == (1, 0)


@pytest.mark.parametrize("args, text", [
    (("read-only: open elsewhere", None, True, False, True, 1), "read-only: open elsewhere"),
    ((None, "disk full", True, False, True, 1), "save failed"),
    ((None, None, True, True, True, 1), "saving…"),
    ((None, None, False, True, True, 1), save_queue.HELD_STATE),
    ((None, None, False, False, True, 1), "unsaved changes"),
    ((None, None, False, False, False, 2), "2 other image(s) not saved"),
    ((None, None, False, False, False, 0), "saved"),
])
def test_state_text_most_urgent_first(args, text):
    assert state_text(*args) == text
