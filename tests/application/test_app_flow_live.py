"""Live mode with no window: cycles that learn and predict the image on screen one after another,
refused without an image, read-only or while a training run goes; what is kept when it ends (a
models/live-<date> folder written on the worker and made active; not at close, nor for another
folder), and a failure to write it as an event."""

from __future__ import annotations

import pytest
from flow_harness import SIZE, Flows, a_model, labelled_project, tiny_run
from session_harness import changed_elsewhere


@pytest.fixture
def flows(tmp_path):
    image_dir, save_dir = labelled_project(tmp_path / "p", count=3)
    flows = Flows()
    flows.open(image_dir, save_dir)
    flows.training.start_from = str(a_model(tmp_path / "start"))  # the training form's start
    return flows


def test_live_mode_cycles_and_keeps_its_model(flows):
    live = flows.live
    assert live.start() is None and live.on and flows.last("switched") is True
    flows.run()
    instant = flows.last("cycle_done")  # the quick pixel classifier's overlay, before the deep model is made
    assert instant.steps == 0 and instant.shown == "instant" and instant.labels.shape == (SIZE, SIZE)
    assert instant.class_names == tuple(flows.session.project.classes.names) and "quick" in instant.text
    assert flows.pools.pending == 0 and flows.pause.is_active()  # the next cycle after a pause
    assert flows.pause.fire()
    flows.run()
    first = flows.last("cycle_done")
    assert first.steps == 8 and first.labels.shape == (SIZE, SIZE)
    assert first.image_path == flows.session.entry.image_path
    assert first.class_names == tuple(flows.session.project.classes.names) and "step 8" in first.text
    assert first.scores is not None and len(first.scores) == 1  # one other image scored a cycle
    assert flows.pause.fire()
    flows.run()
    assert flows.last("cycle_done").steps == 16 and len(flows.last("cycle_done").scores) == 2
    live.switch_off()
    assert not live.on and flows.last("switched") is False
    flows.run()
    kept = flows.last("kept")
    models = flows.session.project.save_dir / "models"
    assert kept.activated and kept.folder.parent == models and kept.folder.name.startswith("live-")
    assert flows.active.path == kept.folder and "now the active model" in kept.text
    assert live.learning is None and live.saving is None and flows.pools.pending == 0


def test_live_mode_is_refused_without_an_image_read_only_or_during_a_run(flows):
    assert Flows().live.start().text == "Open a folder and an image first."
    second = Flows()  # opened while a project-wide change runs elsewhere: read-only
    with changed_elsewhere(flows.session.project.save_dir):
        second.open(flows.session.project.image_dir, flows.session.project.save_dir)
    refusal = second.live.start()
    assert refusal.error and second.session.read_only in refusal.text and not second.live.on
    assert flows.training.start(tiny_run()) is None  # a run is going
    assert "being trained" in flows.live.start().text and not flows.live.on
    flows.run()
    assert flows.live.start() is None  # once it has ended


def test_closing_ends_live_mode_after_the_cycle_and_keeps_the_model_inactive(flows):
    live = flows.live
    assert live.start() is None
    flows.run()
    assert flows.pause.fire()
    flows.run()  # the instant overlay, then a cycle of the deep model
    assert flows.pause.fire()  # the third cycle is on the worker
    ended = live.stop()
    assert not ended.done() and not live.on and not flows.pause.is_active()
    flows.run()
    kept = flows.last("kept")
    assert ended.done() and kept.folder is not None and not kept.activated and flows.active.path is None
    assert flows.last("cycle_done").labels is None  # the burst stopped at once: nothing predicted


def test_closing_before_anything_was_learnt_keeps_nothing(flows):
    assert flows.live.start() is None
    ended = flows.live.stop()  # the first cycle stops before its first step
    flows.run()
    assert ended.done() and flows.last("kept").folder is None and "nothing learnt" in flows.last("kept").text
    assert not (flows.session.project.save_dir / "models").exists()


def test_a_model_that_cannot_be_written_is_an_event(flows, monkeypatch):
    live = flows.live
    assert live.start() is None
    flows.run()
    monkeypatch.setattr(live.learning, "save", lambda name: (_ for _ in ()).throw(OSError("disk full")))
    ended = live.stop()
    flows.run()
    assert ended.done() and "disk full" in flows.last("not_kept") and "kept" not in flows.names()


def test_another_folder_keeps_the_live_model_with_the_project_it_learnt(tmp_path, flows):
    assert flows.live.start() is None
    flows.run()
    assert flows.pause.fire()
    flows.run()  # the instant overlay, then a cycle of the deep model
    first = flows.session.project.save_dir
    image_dir, save_dir = labelled_project(tmp_path / "other", count=2)
    flows.session.open_project(image_dir, save_dir=save_dir)
    assert not flows.live.on
    flows.run()
    kept = flows.last("kept")
    assert kept.folder.parent == first / "models" and not kept.activated and flows.active.path is None


def test_opening_another_image_stops_the_burst_and_the_instant_learner_overlays_it(flows):
    live = flows.live
    assert live.start() is None
    flows.run()  # the instant overlay of the first image
    assert flows.pause.fire()
    flows.run()  # the deep model is made and learns a burst
    steps = flows.last("cycle_done").steps
    assert flows.pause.fire()  # the next burst is on the worker...
    assert flows.session.load_index(1)  # ...when the user opens another image
    flows.run()
    stopped = flows.last("cycle_done")
    assert stopped.labels is None and stopped.steps == steps  # stopped at once, nothing predicted
    assert flows.pause.fire()
    flows.run()
    quick = flows.last("cycle_done")
    assert quick.image_path == flows.session.entry.image_path and quick.shown == "instant" and quick.steps == steps
    live.switch_off()
    flows.run()
