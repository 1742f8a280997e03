"""Several windows on one folder (no Qt): each image edited by one window at a time, taken images
read-only with who and since when, project-wide changes refused while others edit, a class list
changed elsewhere reloaded, and a mask changed under a window never overwritten (conflict file)."""

from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest
from session_harness import H, Harness, W, make_project, paint

from segstudio.application.session import navigation
from segstudio.application.session.team_session import label_next
from segstudio.core import claims
from segstudio.core.claims import ClaimBook, claim_name, claims_folder
from segstudio.core.classes import ClassList, save_class_file
from segstudio.core.errors import SegStudioError
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.served import read_served


def window(folder, person: str, index: int = 0) -> Harness:
    h = Harness()
    h.session.person = person
    h.session.open_project(folder)
    h.show(index)
    return h


def beat(h: Harness) -> None:
    """Fire the heartbeat (the session's second timer) and deliver its answer."""
    assert h.timers[1].fire()
    h.run()


def save(h: Harness) -> None:
    h.session.save_async()
    h.run()


def test_an_image_is_edited_by_one_window_the_other_sees_who(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    bob = window(folder, "bob")
    assert alice.session.taken is None and bob.session.taken.startswith("read-only: taken by alice since ")
    assert bob.states[-1] == bob.session.taken
    assert bob.session.document.locked and bob.session.document.fill_rect(0, 0, 5, 5, 2) is None
    assert bob.session.claimed_by_others()[0].startswith("alice since ")
    assert bob.session.taken_indices() == {0}
    # A/D skip the taken image
    assert navigation.step([0, 1, 2], 2, -1, skip={1}) == 0
    assert navigation.step([0, 1, 2], 0, 1, skip=bob.session.taken_indices() | {1}) == 2
    bob.show(1)
    assert bob.session.taken is None
    paint(bob.session, 2)
    save(bob)
    paint(alice.session, 1)
    save(alice)
    assert read_mask(folder / "img1.png")[3, 3] == 1 and read_mask(folder / "img2.png")[3, 3] == 2
    assert alice.session.taken_indices() == set()
    beat(alice)
    assert alice.session.taken_indices() == {1}


def test_a_freed_image_becomes_editable_on_the_next_beat(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    paint(alice.session, 1)
    bob = window(folder, "bob")
    assert bob.session.taken
    alice.show(2)  # leaving saves img1 and then releases it
    beat(bob)
    assert bob.session.taken is None and not bob.session.document.locked
    assert bob.session.document.label[3, 3] == 1  # the mask alice saved, read afresh
    paint(bob.session, 2)
    save(bob)
    assert read_mask(folder / "img1.png")[3, 3] == 2


def test_class_rewrite_is_refused_while_others_edit(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    bob = window(folder, "bob", 1)
    answers: list = []
    lut = np.arange(256, dtype=np.uint8)
    alice.session.rewrite_classes(ClassList(["background", "cat", "dog", "bird"]), lut, answers.append)
    alice.run()
    assert len(answers) == 1 and "bob (img2) is editing images of this project" in answers[0]
    assert alice.session.project.classes.names == ["background", "cat", "dog"]
    assert not alice.session.writes_held
    with pytest.raises(SegStudioError, match="cannot add a class now: bob"):
        with alice.session.project_wide("add a class"):
            pass
    bob.session.open_project(make_project(tmp_path / "q"))  # bob goes elsewhere: his claims go
    alice.session.rewrite_classes(ClassList(["background", "cat", "dog", "bird"]), lut, answers.append)
    alice.run()
    assert answers[-1] is None and alice.session.project.classes.names[-1] == "bird"
    beat(alice)  # its own change is no change "elsewhere"
    assert alice.session.current is not None and not alice.session.loading


def test_class_list_changed_elsewhere_is_reloaded_asking_when_unsaved(tmp_path):
    folder = make_project(tmp_path / "p")
    carol = window(folder, "carol", 2)
    paint(carol.session, 1)
    asked: list = []
    carol.session.ask_reload_classes = lambda: asked.append("asked") or True
    save_class_file(folder / "classes.txt", ClassList(["background", "cat", "dog", "bird"]))
    beat(carol)
    assert asked == ["asked"]
    carol.run()
    assert carol.session.project.classes.names[-1] == "bird"
    assert carol.session.index == 2 and carol.session.taken is None
    assert read_mask(folder / "img3.png")[3, 3] == 1  # the strokes were saved before the reload
    beat(carol)
    assert asked == ["asked"]  # said once


def test_a_mask_changed_under_a_window_is_never_overwritten(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    paint(alice.session, 1)
    save(alice)
    theirs = np.full((H, W), 2, np.uint8)
    write_mask(folder / "img1.png", theirs)  # another writer (a claim taken over from a sleeper)
    conflicts: list = []
    alice.session.save_conflict.connect(conflicts.append)
    alice.session.document.fill_rect(20, 20, 25, 25, 1)
    save(alice)
    np.testing.assert_array_equal(read_mask(folder / "img1.png"), theirs)
    [path] = (folder / "conflicts").iterdir()
    assert path.name.startswith("img1.conflict-alice-") and read_mask(path)[22, 22] == 1
    assert len(conflicts) == 1 and str(path) in conflicts[0]
    assert alice.session.taken and alice.session.document.locked and not alice.session.dirty


def test_a_window_that_slept_through_a_takeover_puts_its_strokes_beside(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    paint(alice.session, 1)  # not saved yet
    path = claims_folder(folder) / claim_name("img1")
    path.unlink()  # bob took the claim over while alice slept
    ClaimBook(folder, "bob").claim("img1")
    beat(alice)
    assert alice.session.taken.startswith("read-only: img1.jpg was taken over by bob since ")
    [conflict] = (folder / "conflicts").iterdir()
    assert read_mask(conflict)[3, 3] == 1 and not (folder / "img1.png").exists()


def test_a_drive_that_disappears_mid_save_keeps_the_edits_in_memory(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    paint(alice.session, 1)
    away = tmp_path / "away"
    shutil.move(folder, away)
    folder.write_text("not a folder any more")  # the mount point of a vanished drive
    save(alice)
    assert any(event[0] == "failed" for event in alice.events)
    assert alice.session.dirty and alice.session.has_unsaved_snapshots()
    beat(alice)  # the heartbeat on a vanished drive neither raises nor gives the image up
    assert alice.session.taken is None
    folder.unlink()
    shutil.move(away, folder)
    save(alice)
    assert not alice.session.dirty and read_mask(folder / "img1.png")[3, 3] == 1


def test_claims_go_when_the_window_closes(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    alice.session.shutdown()
    alice.run()
    assert not any(claims_folder(folder).iterdir())


def test_label_next_serves_each_window_another_of_the_most_uncertain(tmp_path):
    folder = make_project(tmp_path / "p", count=6)
    order = [5, 3, 4, 0, 1, 2]  # most uncertain first
    windows = [window(folder, name, 2) for name in ("alice", "bob", "carol")]
    served = []
    for h in windows:
        beat(h)
        index = label_next(h.session, order, top_n=3)
        h.run()
        served.append(index)
        assert h.session.index == index and h.session.taken is None
    assert sorted(served) == [3, 4, 5]  # the top 3, one each
    alice = windows[0]
    beat(alice)
    assert label_next(alice.session, order, top_n=3) == 0  # the top 3 of those nobody else edits
    record = read_served(folder)
    assert record[f"img{order[3] + 1}"] == max(record.values())
    # a broken record is only a hint: serving goes on
    (folder / ".segstudio" / "served.json").write_text("[1, 2")
    alice.run()
    assert label_next(alice.session, order, top_n=5) == 5  # (alice left it: free again)


def test_a_change_from_a_class_list_older_than_the_disk_is_refused(tmp_path):
    """An addition made from a stale list would drop the class another window has just added."""
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    save_class_file(folder / "classes.txt", ClassList(["background", "cat", "dog", "bird"]))  # carol's
    with pytest.raises(SegStudioError, match="class list was changed in another window"):
        with alice.session.project_wide("add a class"):
            pass
    assert not (folder / ".segstudio" / "lock").exists()
    beat(alice)  # read again
    alice.run()
    with alice.session.project_wide("add a class"):
        alice.session.project.classes.add("fish")
        alice.session.project.save_classes()
    assert (folder / "classes.txt").read_text().split() == ["background", "cat", "dog", "bird", "fish"]


def test_a_hostile_claim_file_is_said_once_and_the_image_edited(tmp_path):
    folder = make_project(tmp_path / "p")
    claims_folder(folder, create=True)
    (claims_folder(folder) / claim_name("img1")).symlink_to(tmp_path / "nowhere")
    h = Harness()
    said: list[str] = []
    h.session.team_said.connect(said.append)
    h.session.open_project(folder)
    h.show(0)
    beat(h)
    assert len(said) == 1 and "not a plain file" in said[0]
    assert h.session.taken is None
    paint(h.session, 1)
    save(h)
    assert read_mask(folder / "img1.png")[3, 3] == 1


def test_a_crashed_windows_recovery_copy_is_offered_to_the_next_editor(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = Harness()
    alice.session.person = "alice"
    alice.session.autosave = False
    alice.session.open_project(folder)
    alice.show(0)
    paint(alice.session, 2)
    assert alice.timers[0].fire()  # the delayed write: a recovery copy, not the mask
    alice.run()
    claims._LIVE_TOKENS.discard(alice.session._open.claims.token)  # alice's window crashes
    bob = Harness()
    offered: list = []
    bob.session.ask_restore = lambda path: offered.append(path) or True
    bob.session.person = "bob"
    bob.session.open_project(folder)
    assert bob.session.recovery_waiting() == [0]
    bob.show(0)
    assert bob.session.taken is None and len(offered) == 1
    assert bob.session.document.label[3, 3] == 2 and bob.session.dirty
    save(bob)
    assert read_mask(folder / "img1.png")[3, 3] == 2


def test_reopening_keeps_the_claim_of_the_image_on_screen(tmp_path):
    """Reading the project again (a class list changed elsewhere) never lets the image go meanwhile."""
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    path = claims_folder(folder) / claim_name("img1")
    since = json.loads(path.read_text())["since"]
    alice.session.reopen_here()
    alice.run()
    assert alice.session.index == 0 and alice.session.taken is None
    assert json.loads(path.read_text())["since"] == since  # the same claim all along
    alice.show(1)  # another image: now the first goes
    assert not path.exists()


def test_a_mask_with_a_class_added_elsewhere_reads_the_class_list_first(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    save_class_file(folder / "classes.txt", ClassList(["background", "cat", "dog", "bird"]))  # bob adds
    write_mask(folder / "img2.png", np.full((H, W), 3, np.uint8))  # and paints a bird on img2
    alice.show(1)  # before alice's next beat
    assert alice.session.project.classes.names[-1] == "bird" and not alice.session.mask_blocked
    assert alice.session.document.label[0, 0] == 3 and alice.session.taken is None


def test_a_save_after_a_takeover_goes_beside_even_before_the_new_editor_saves(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    paint(alice.session, 1)
    (claims_folder(folder) / claim_name("img1")).unlink()  # bob took the claim over while alice slept
    ClaimBook(folder, "bob").claim("img1")
    save(alice)  # alice wakes and saves before her next beat: bob's claim, so beside
    assert not (folder / "img1.png").exists()
    [conflict] = (folder / "conflicts").iterdir()
    assert read_mask(conflict)[3, 3] == 1 and alice.session.document.locked


def test_a_new_name_names_the_images_opened_from_then_on(tmp_path, monkeypatch):
    monkeypatch.setenv(claims.PERSON_ENV, "from-env")
    folder = make_project(tmp_path / "p")
    alice = window(folder, None)  # no name chosen: the environment's
    bob = window(folder, "bob", index=1)
    assert bob.session.claimed_by_others()[0].startswith("from-env since ")
    assert alice.session.set_person("  Alice B.\x1b[2J/x ") == "Alice B.x1b[2Jx"  # cleaned as claims are
    beat(bob)
    assert bob.session.claimed_by_others()[0].startswith("from-env since ")  # a held claim keeps its name
    alice.show(2)
    beat(bob)
    assert bob.session.claimed_by_others()[2].startswith("Alice B.x1b[2Jx since ")
    assert alice.session.set_person("") == "from-env"  # blank: back to the default


def test_a_model_made_or_changed_elsewhere_is_announced_at_the_next_beat(tmp_path):
    folder = make_project(tmp_path / "p")
    alice = window(folder, "alice")
    said: list[str] = []
    alice.session.models_changed.connect(lambda: said.append("models"))
    beat(alice)  # the first beat only looks (the list was read at opening)
    (folder / "models" / "run-1").mkdir(parents=True)  # bob's run starts...
    beat(alice)
    assert said == ["models"]
    beat(alice)
    assert said == ["models"]  # nothing new, nothing said
    weights = folder / "models" / "run-1" / "model.safetensors"
    weights.write_bytes(b"x")  # ...and writes its weights inside its folder
    os.utime(weights, ns=(time.time_ns() + 10**9,) * 2)
    beat(alice)
    assert said == ["models", "models"]
    shutil.rmtree(folder / "models" / "run-1")  # deleted in another window
    beat(alice)
    assert said == ["models"] * 3
