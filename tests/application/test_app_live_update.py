""""Update model now" and "retrain when a mask is saved", with no window: a one-shot update runs a
bounded number of live cycles from the active model, ends by itself and keeps its model as the
active one; the project setting starts one when a finished image's mask is written (not for the
autosaves of the image being painted, never in a read-only window), one at a time."""

from __future__ import annotations

import pytest
from flow_harness import Flows, a_model, labelled_project
from session_harness import changed_elsewhere

from segstudio.application.live.controller import UPDATE_CYCLES
from segstudio.application.live.retrain_on_save import RetrainOnSave, retrains_on_save, set_retrain_on_save
from segstudio.core.project import Project


@pytest.fixture
def flows(tmp_path):
    image_dir, save_dir = labelled_project(tmp_path / "p", count=3)
    flows = Flows()
    flows.open(image_dir, save_dir)
    flows.training.start_from = str(a_model(tmp_path / "start"))
    return flows


def _cycle_until_off(flows: Flows, limit: int = 40) -> int:
    """Let the cycles run (each pause elapses) until live mode is off; how many answered."""
    flows.run()
    for _ in range(limit):
        if not flows.live.on:
            break
        assert flows.pause.fire()
        flows.run()
    flows.run()
    return len([name for name in flows.names() if name == "cycle_done"])


def test_update_once_runs_a_bounded_burst_from_the_active_model_and_keeps_it(flows, tmp_path):
    active = a_model(flows.session.project.save_dir / "models" / "earlier")
    flows.active.set(active)
    made: list[str] = []
    live = flows.live
    real = live._make_trainer
    live._make_trainer = lambda names, init, save_dir, size: made.append(init) or real(names, init, save_dir, size)
    assert live.update_once() is None and live.on and live.updating == UPDATE_CYCLES
    cycles = _cycle_until_off(flows)
    assert cycles == UPDATE_CYCLES + 1  # the instant overlay, then the deep model's cycles
    assert made == [str(active)]  # it continues the active model
    kept = flows.last("kept")
    assert kept.activated and flows.active.path == kept.folder != active
    assert flows.last("cycle_done").steps == 8 * UPDATE_CYCLES and live.updating is None


def test_update_once_is_nothing_while_live_mode_is_on_and_live_mode_takes_over_an_update(flows):
    live = flows.live
    assert live.start() is None and live.updating is None
    assert live.update_once() is None and live.updating is None  # live mode updates already
    live.switch_off()
    flows.run()
    assert live.update_once() is None and live.updating == UPDATE_CYCLES
    assert live.start() is None and live.on and live.updating is None  # the toggle: live mode goes on
    live.switch_off()
    flows.run()


def test_a_finished_image_saved_starts_an_update_when_the_project_asks(flows):
    retrain = RetrainOnSave(flows.session, flows.live)
    said: list[str] = []
    retrain.status.connect(said.append)
    project = flows.session.project
    assert not retrains_on_save(project)
    flows.session.mask_saved.emit(1, None)  # the setting is off
    assert not flows.live.on
    set_retrain_on_save(project, True)
    assert retrains_on_save(Project(project.image_dir, project.save_dir))  # kept in project.json
    flows.session.mask_saved.emit(flows.session.index, None)  # an autosave of the image being painted
    assert not flows.live.on
    flows.session.mask_saved.emit(1, None)  # an image the user moved on from
    assert flows.live.on and flows.live.updating == UPDATE_CYCLES and "updating" in said[-1]
    flows.session.mask_saved.emit(2, None)  # during the update: one more once it has ended
    assert retrain.pending
    _cycle_until_off(flows)  # the first update ends, the second starts at once and ends too
    assert not retrain.pending and not flows.live.on and len(said) == 2
    assert len([n for n in flows.names() if n == "kept"]) == 2


def test_moving_on_from_a_painted_image_writes_its_mask_and_that_starts_the_update(flows):
    from session_harness import paint

    RetrainOnSave(flows.session, flows.live)
    set_retrain_on_save(flows.session.project, True)
    paint(flows.session)
    flows.session.save_async()
    assert flows.session.load_index(1)  # the user moves on: the write answers for image 0
    flows.run()
    assert flows.live.on and flows.live.updating == UPDATE_CYCLES
    flows.live.switch_off()
    flows.run()


def test_never_in_a_read_only_window(flows):
    set_retrain_on_save(flows.session.project, True)
    second = Flows()  # read-only: opened while a project-wide change runs elsewhere
    with changed_elsewhere(flows.session.project.save_dir):
        second.open(flows.session.project.image_dir, flows.session.project.save_dir)
    assert second.session.read_only
    RetrainOnSave(second.session, second.live)
    second.session.mask_saved.emit(1, None)
    assert not second.live.on


def test_only_the_last_automatic_updates_are_kept_and_never_the_active_or_a_users_model(flows):
    from segstudio.application.live.retrain_on_save import KEEP_RETRAINED, MADE_KEY, prune_retrained

    project = flows.session.project
    models = project.save_dir / "models"
    users = a_model(models / "live-by-hand")  # live mode or a run: never listed, never deleted
    made = [a_model(models / f"auto-{i}") for i in range(KEEP_RETRAINED + 2)]
    flows.active.set(made[0])  # the active model stays, even when it is old
    project.settings[MADE_KEY] = ["../outside", "/etc", 7]  # a received project.json: ignored
    removed = []
    for folder in made:
        removed += prune_retrained(project, folder)
    assert removed == ["auto-1"]
    assert made[0].is_dir() and not made[1].exists() and users.is_dir()
    assert all(folder.is_dir() for folder in made[2:])
    assert Project(project.image_dir, project.save_dir).settings[MADE_KEY] == ["auto-0"] + [f.name for f in made[2:]]


def test_an_update_started_by_a_save_prunes_the_older_automatic_ones(flows):
    from segstudio.application.live.retrain_on_save import KEEP_RETRAINED, MADE_KEY

    retrain = RetrainOnSave(flows.session, flows.live)
    project = flows.session.project
    set_retrain_on_save(project, True)
    models = project.save_dir / "models"
    old = [a_model(models / f"auto-{i}") for i in range(KEEP_RETRAINED)]
    project.settings[MADE_KEY] = [f.name for f in old]
    said: list[str] = []
    retrain.status.connect(said.append)
    flows.session.mask_saved.emit(1, None)
    _cycle_until_off(flows)
    kept = flows.last("kept")
    assert kept.folder.is_dir() and not old[0].exists() and old[1].is_dir()
    assert project.settings[MADE_KEY] == [old[1].name, old[2].name, kept.folder.name]
    assert "removed" in said[-1]
