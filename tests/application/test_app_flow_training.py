"""The training flow with no window: a request refused with its reason or accepted, the queued
saves written before the snapshot, the run on a pool with its events, the better model made
active (not always the newest), Stop as a request whose end is an event and a future, and what a
stopped run kept said in full."""

from __future__ import annotations

import pytest
from flow_harness import Flows, a_model, labelled_project, tiny_run
from session_harness import changed_elsewhere, paint

from segstudio.core.masks import read_mask


@pytest.fixture
def flows(tmp_path):
    image_dir, save_dir = labelled_project(tmp_path / "p")
    flows = Flows()
    flows.open(image_dir, save_dir)
    return flows


def test_a_run_is_refused_with_its_reason(tmp_path, flows):
    empty = Flows()
    assert empty.training.start(tiny_run()).text == "Open a folder of images first."
    assert "learning rate" not in flows.training.start(tiny_run(init="@active")).text
    assert "no active model" in flows.training.start(tiny_run(init="@active")).text
    assert "not valid" in flows.training.start(tiny_run(colour="blue")).text
    assert not flows.training.running and flows.pools.pending == 0 and flows.training_names() == []


def test_a_read_only_window_does_not_train(tmp_path, flows):
    second = Flows()  # opened while a project-wide change runs elsewhere: read-only
    with changed_elsewhere(flows.session.project.save_dir):
        second.open(flows.session.project.image_dir, flows.session.project.save_dir)
    refusal = second.training.start(tiny_run())
    assert refusal.error and "train from that window" in refusal.text and second.session.read_only in refusal.text
    assert not second.training.running


def test_a_run_follows_the_saves_then_its_model_becomes_active(flows):
    session, training = flows.session, flows.training
    paint(session, value=2)  # the open image's latest strokes are part of the run
    assert training.start(tiny_run(), name="first") is None
    assert training.running and flows.training_names() == ["starting"] and training.snapshot is None
    flows.run()
    entry = session.project.entries[0]
    painted = session.document.label
    assert (painted == 2).any() and (read_mask(entry.mask_path) == painted).all()  # written before the snapshot
    names = flows.training_names()
    assert names[:2] == ["starting", "started"] and "progress" in names and "epoch" in names
    assert names[-2:] == ["active", "finished"]  # decided first, then said
    outcome = flows.last("finished")
    folder = session.project.save_dir / "models" / "first"
    assert outcome.status == "finished" and outcome.activated == folder and flows.active.path == folder
    assert outcome.text.startswith("Finished in") and not outcome.error
    assert (outcome.step, outcome.total_steps) == (2, 2) and "val mIoU" in outcome.line
    assert not training.running and not list((session.project.save_dir / ".segstudio").glob("train-snapshot-*"))
    assert training.ran(folder) and not training.ran(session.project.save_dir / "models" / "other")


def test_a_worse_model_does_not_replace_the_active_one(flows):
    better = a_model(flows.session.project.save_dir / "models" / "better", best_miou=0.99)
    flows.active.set(better)
    assert flows.training.start(tiny_run(), name="worse") is None
    flows.run()
    outcome = flows.last("finished")
    assert outcome.status == "finished" and outcome.activated is None and flows.active.path == better
    assert flows.training_names().count("active") == 1  # only the set above: nothing changed silently
    choice = outcome.choice  # the window asks which should predict
    assert choice is flows.training.question and choice.active.name == "better" and choice.new.name == "worse"
    assert "lower than the active better (0.990)" in outcome.text and choice.question in outcome.text
    assert choice.keep_text == "Keep better (better)" and choice.use_text == "Use worse"
    assert "better stays the active model" in flows.training.answer(use_new=False)
    assert flows.active.path == better and flows.training.question is None
    assert "no open question" in flows.training.answer(use_new=True)  # answered once
    assert flows.active.path == better


def test_the_worse_run_is_used_when_the_user_says_so(flows):
    better = a_model(flows.session.project.save_dir / "models" / "better", best_miou=0.99)
    flows.active.set(better)
    assert flows.training.start(tiny_run(), name="worse") is None
    flows.run()
    assert flows.last("finished").choice is not None
    assert "worse is the active model now" in flows.training.answer(use_new=True)
    assert flows.active.path == flows.session.project.save_dir / "models" / "worse"
    assert flows.training_names()[-1] == "active"


def test_a_new_run_or_folder_drops_the_open_question(tmp_path, flows):
    better = a_model(flows.session.project.save_dir / "models" / "better", best_miou=0.99)
    flows.active.set(better)
    assert flows.training.start(tiny_run(), name="worse") is None
    flows.run()
    assert flows.training.question is not None
    assert flows.training.start(tiny_run(), name="again") is None
    assert flows.training.question is None  # the earlier run's question is moot
    flows.run()
    image_dir, save_dir = labelled_project(tmp_path / "other")
    flows.open(image_dir, save_dir)
    assert flows.training.question is None


def test_a_better_model_replaces_a_worse_one(flows):
    worse = a_model(flows.session.project.save_dir / "models" / "worse", best_miou=0.0)
    flows.active.set(worse)
    assert flows.training.start(tiny_run(), name="better") is None
    flows.run()
    outcome = flows.last("finished")
    assert outcome.activated == flows.session.project.save_dir / "models" / "better"
    assert flows.active.path == outcome.activated


def test_stop_is_a_request_and_the_stopped_run_says_what_it_kept(flows):
    training = flows.training
    assert training.start(tiny_run(steps=500, keep_state=True), name="stopped") is None
    assert training.running and "started" in flows.training_names()  # no unsaved edits: it started at once
    ended = training.stop()
    assert not ended.done() and flows.training_names()[-1] == "stopping"
    flows.run()
    assert ended.done() and not training.running
    outcome = flows.last("finished")
    folder = flows.session.project.save_dir / "models" / "stopped"
    assert outcome.status == "stopped" and not outcome.error
    assert outcome.step is not None and outcome.step < 500 and outcome.total_steps == 500
    assert f"at step {outcome.step} of 500" in outcome.text and "Kept in models/stopped" in outcome.text
    assert "training_state.pt" in outcome.text and " MB" in outcome.text and "--resume" in outcome.text
    assert "kept in models/stopped" in outcome.line and "state (" in outcome.line  # the progress line
    assert (folder / "model.safetensors").is_file() and (folder / "training_state.pt").is_file()
    assert training.stop().done()  # nothing going: done at once


def test_stop_while_the_saves_are_written_starts_nothing(flows):
    paint(flows.session)
    assert flows.training.start(tiny_run(), name="never") is None
    ended = flows.training.stop()
    flows.run()
    assert ended.done() and flows.training_names() == ["starting", "not_started"]
    assert flows.last("not_started") == "Stopped before the run started."
    assert not (flows.session.project.save_dir / "models").exists()


def test_another_folder_opened_during_the_run_keeps_its_own_active_model(tmp_path, flows):
    first_save = flows.session.project.save_dir
    assert flows.training.start(tiny_run(), name="elsewhere") is None
    image_dir, save_dir = labelled_project(tmp_path / "other", count=2)
    flows.session.open_project(image_dir, save_dir=save_dir)
    flows.run()
    outcome = flows.last("finished")
    assert outcome.status == "finished" and outcome.activated is None and flows.active.path is None
    assert str(first_save / "models" / "elsewhere") in outcome.text
