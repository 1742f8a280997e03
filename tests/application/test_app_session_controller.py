"""The project session driven with no window and no thread: opened, painted, saved, recovered,
switched, repaired and closed, step by step (QueuedPools runs jobs and answers in order)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from session_harness import H, Harness, W, make_project, paint

from segstudio.core.masks import read_mask, write_mask


def test_opened_painted_saved_with_no_window_and_no_qt(tmp_path):
    folder = make_project(tmp_path / "p")
    h = Harness()
    h.session.open_project(folder)
    h.show(0)
    assert h.events[:2] == [("loading", 0), ("loaded", 0)]
    paint(h.session)
    assert h.session.dirty and h.states[-1] == "unsaved changes"
    assert h.timers[0].fire()  # the autosave delay
    assert h.states[-1] == "saving…"
    h.run()
    assert h.states[-1] == "saved" and not h.session.dirty
    assert read_mask(folder / "img1.png")[5, 5] == 1
    code = ("import sys; import segstudio.application.session.controller; "
            "print([m for m in sys.modules if m.split('.')[0] in ('PySide6', 'torch')])")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_switching_saves_and_flush_calls_back_once_written(tmp_path):
    folder = make_project(tmp_path / "p")
    h = Harness()
    h.session.open_project(folder)
    h.show(0)
    paint(h.session, 2)
    assert h.session.load_index(1)  # autosave on leaving: queued, not waited for
    done = []
    h.session.flush(lambda: done.append(True))
    assert done == [] and not (folder / "img1.png").exists()
    h.run()
    assert done == [True] and read_mask(folder / "img1.png")[5, 5] == 2
    assert h.session.index == 1
    h.session.flush(lambda: done.append("again"))  # nothing queued: at once
    assert done == [True, "again"]
    h.show(0)
    assert h.session.document.undo() is not None  # the history came back with the image


def test_recovery_copy_written_then_offered_on_the_next_open(tmp_path):
    folder = make_project(tmp_path / "p")
    h = Harness()
    h.session.autosave = False
    h.session.open_project(folder)
    h.show(0)
    paint(h.session)
    h.timers[0].fire()
    h.run()
    assert not (folder / "img1.png").exists()  # autosave off: a recovery copy only
    h.session.shutdown()
    h.run()
    again = Harness()
    offered = []
    again.session.ask_restore = lambda path: offered.append(path.name) or True
    again.session.open_project(folder)
    assert again.session.recovery_waiting() == [0]
    again.show(0)
    assert offered and again.session.dirty and again.session.document.label[5, 5] == 1


def test_a_failed_save_keeps_the_edits_and_reports(tmp_path, monkeypatch):
    folder = make_project(tmp_path / "p")
    h = Harness()
    h.session.open_project(folder)
    h.show(0)
    paint(h.session)
    from segstudio.core import project as project_module
    from segstudio.core.errors import SaveError

    def refuse(*args, **kwargs):
        raise SaveError("disk full")

    monkeypatch.setattr(project_module.Project, "save", refuse)
    h.session.save_async()
    h.run()
    assert ("failed", "disk full") in h.events and h.session.dirty and h.session.has_unsaved_snapshots()
    assert h.states[-1] == "save failed"


def test_mask_repair_keeps_the_original_and_adds_classes(tmp_path):
    folder = make_project(tmp_path / "p")
    write_mask(folder / "img1.png", np.full((H, W), 7, np.uint8))
    h = Harness()
    h.session.open_project(folder)
    h.show(0)
    assert h.session.mask_blocked
    h.session.save_async()
    assert h.states[-1] == "mask not loaded: read-only"
    assert h.session.repair_mask("add_classes") is None
    assert len(h.session.project.classes) == 8
    assert any(p.name.startswith("img1.png.bak-") for p in folder.iterdir())
    h.timers[0].fire()
    h.run()
    assert read_mask(folder / "img1.png")[0, 0] == 7


def test_hold_writes_waits_for_the_queue_then_holds_switches(tmp_path):
    folder = make_project(tmp_path / "p")
    h = Harness()
    h.session.open_project(folder)
    h.show(0)
    paint(h.session)
    h.session.save_async()
    held = []
    h.session.hold_writes(lambda: held.append(h.session.writes_held))
    assert held == []
    h.run()
    assert held == [True] and not h.session.load_index(1)
    h.session.release_writes()
    assert h.session.load_index(1)
