"""Per-image claims (core.claims): one editor per image, stale claims taken over, hostile files ignored."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from segstudio.core import claims
from segstudio.core.claims import ClaimBook, ClaimTaken, claim_name, claims_folder


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_claim(folder, stem, **fields) -> object:
    record = {"stem": stem, "person": "bob", "host": socket.gethostname(), "pid": os.getpid(),
              "started": time.time() - 100, "token": "t" * 32, "since": time.time(), "beat": 0,
              "beat_time": time.time()}
    record.update(fields)
    path = claims_folder(folder, create=True) / claim_name(stem)
    path.write_text(json.dumps(record))
    return path


def test_claim_is_exclusive_named_and_released(tmp_path):
    alice, bob = ClaimBook(tmp_path, "alice"), ClaimBook(tmp_path, "bob")
    alice.claim("img1")
    with pytest.raises(ClaimTaken, match="taken by alice since"):
        bob.claim("img1")
    assert set(bob.others()) == {"img1"} and bob.others()["img1"].person == "alice"
    assert alice.others() == {} and alice.holds("img1")
    bob.claim("img2")
    alice.release("img1")
    bob.claim("img1")
    assert set(alice.others()) == {"img1", "img2"}
    bob.release_all()
    assert alice.others() == {}
    assert [p.name for p in claims_folder(tmp_path).iterdir()] == []  # no temporary left behind


def test_claim_of_a_dead_process_on_this_host_is_stale_at_once(tmp_path):
    write_claim(tmp_path, "img1", pid=dead_pid())
    book = ClaimBook(tmp_path, "alice")
    assert book.holder("img1") is None
    book.claim("img1")
    assert json.loads((claims_folder(tmp_path) / claim_name("img1")).read_text())["person"] == "alice"


def test_claim_of_a_crashed_window_of_this_process_is_stale(tmp_path):
    crashed = ClaimBook(tmp_path, "alice")
    crashed.claim("img1")
    claims._LIVE_TOKENS.discard(crashed.token)  # as if its window had gone without releasing
    ClaimBook(tmp_path, "bob").claim("img1")


def test_remote_claim_expires_when_its_heartbeat_stops_observed_locally(tmp_path):
    """Another host's clock may be hours off: only the counter's progression, seen here, counts."""
    clock = Clock()
    path = write_claim(tmp_path, "img1", host="far.example", pid=1, beat_time=time.time() + 7200)
    book = ClaimBook(tmp_path, "alice", timeout=60, clock=clock)
    assert book.holder("img1").host == "far.example"
    clock.now += 50
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "beat": 1, "beat_time": 5.0}))  # it beats: fresh again
    assert book.holder("img1") is not None
    clock.now += 59
    assert book.holder("img1") is not None
    with pytest.raises(ClaimTaken, match="bob on far.example"):
        book.claim("img1")
    clock.now += 2  # 61 s without a beat
    assert book.holder("img1") is None
    book.claim("img1")
    assert book.holds("img1")


def test_owner_heartbeat_keeps_a_claim_and_finds_one_taken_over(tmp_path):
    clock = Clock()
    owner = ClaimBook(tmp_path, "alice")
    other = ClaimBook(tmp_path, "bob", timeout=60, clock=clock)
    owner.claim("img1")
    owner.claim("img2")
    assert other.holder("img1") is not None
    clock.now += 40
    assert owner.heartbeat() == []
    clock.now += 40  # 80 s since first seen, 40 since the beat
    assert other.holder("img1") is not None
    # the owner sleeps: its claims go stale for bob, who takes img1 over
    clock.now += 61
    other.claim("img1")
    assert owner.heartbeat() == ["img1"]
    assert owner.held == ["img2"] and other.holds("img1")


@pytest.mark.parametrize("make", ["link", "fifo", "huge", "pid", "path", "folder", "notjson"])
def test_hostile_claim_files_are_said_once_and_taken_over_never_followed(tmp_path, make):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    folder = claims_folder(tmp_path, create=True)
    path = folder / claim_name("img1")
    if make == "link":
        path.symlink_to(target)
    elif make == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs on this system")
        os.mkfifo(path)
    elif make == "huge":
        path.write_bytes(b" " * (claims.CLAIM_LIMIT + 10) + b"{}")
    elif make == "pid":
        write_claim(tmp_path, "img1", pid=10**30)
    elif make == "path":
        write_claim(tmp_path, "img1", person="../../etc/passwd")
    elif make == "folder":
        path.mkdir()
    else:
        path.write_text("{not json")
    said: list[str] = []
    book = ClaimBook(tmp_path, "alice", say=said.append)
    assert book.others() == {} and book.holder("img1") is None
    assert book.others() == {}
    assert len(said) == 1 and str(path) in said[0] and "\n" not in said[0]
    book.claim("img1")  # moved aside (a folder is kept there, hidden), never opened
    assert book.holds("img1")
    assert target.read_text() == "keep me"


def test_person_is_settable_and_never_a_path(tmp_path, monkeypatch):
    monkeypatch.setenv(claims.PERSON_ENV, "carol/../x\x1b[31m")
    assert "/" not in claims.default_person() and "\x1b" not in claims.default_person()
    assert ClaimBook(tmp_path, "dave").person == "dave"


def test_two_takers_of_one_stale_claim_end_with_one_owner(tmp_path):
    write_claim(tmp_path, "img1", pid=dead_pid())
    first, second = ClaimBook(tmp_path, "a"), ClaimBook(tmp_path, "b")
    first.claim("img1")
    claims._take_over(claims_folder(tmp_path) / claim_name("img1"), "t" * 32)  # second judged the dead one stale
    with pytest.raises(ClaimTaken, match="taken by a"):
        second.claim("img1")
    assert first.heartbeat() == []


def test_a_claim_made_again_by_the_same_window_is_a_new_claim(tmp_path):
    """Seen once at counter 0 long ago, released, claimed again (counter 0 again): not stale."""
    clock = Clock()
    alice, bob = ClaimBook(tmp_path, "alice"), ClaimBook(tmp_path, "bob", timeout=60, clock=clock)
    alice.claim("img1")
    assert bob.holder("img1") is not None
    alice.release("img1")
    clock.now += 600
    time.sleep(0.01)  # (a new claim: another "since")
    alice.claim("img1")
    assert bob.holder("img1") is not None
    with pytest.raises(ClaimTaken):
        bob.claim("img1")


def test_a_linked_claims_folder_is_never_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "p" / ".segstudio").mkdir(parents=True)
    (tmp_path / "p" / ".segstudio" / "claims").symlink_to(elsewhere, target_is_directory=True)
    book = ClaimBook(tmp_path / "p", "alice")
    assert book.others() == {} and book.holder("img1") is None and book.heartbeat() == []
    with pytest.raises(claims.SaveError, match="symbolic link"):
        book.claim("img1")
    assert list(elsewhere.iterdir()) == []
