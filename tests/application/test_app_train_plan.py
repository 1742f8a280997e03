"""The plan before Train (application/training/run_plan.py, plan_preview.py): what the form's run
will do on this machine and how long it takes, the warning and the budget it offers on a CPU, a
budget too short refused, and where the figures come from (a probe off the GUI thread, or the last
run's measured pace) -- without a window and without timing anything."""

from __future__ import annotations

import pytest
from flow_harness import Flows, a_model, labelled_project

from segstudio.application.training import plan_preview, run_plan
from segstudio.application.training.run_plan import MachineCost, form_plan
from segstudio.model.training import budget
from segstudio.model.training.budget import StepCost
from segstudio.model.training.history import write_history

CAMVID_LIKE = [(360, 480)] * 8
DEFAULTS = dict(init="auto", epochs=None, steps=None, minutes=None, size=512, batch=8, device="auto")
LAPTOP = MachineCost(StepCost(0.1, 5e-6), "cpu", 2e-6, 15_000_000, "measured just now with B0")
GPU = MachineCost(StepCost(0.02, 2e-9), "cuda", 1e-9, 15_000_000, "measured just now with B0")


def test_the_defaults_on_a_cpu_say_how_long_and_offer_a_budget():
    plan = form_plan(DEFAULTS, CAMVID_LIKE, LAPTOP)
    assert plan.text.startswith("About 2000 steps of 512 px crops, batch 8 on 7 training images")
    assert "on this CPU" in plan.text and "measured just now" in plan.text
    assert plan.seconds > 2 * 3600  # 2000 x (0.1 + 5e-6 x 8 x 512²) s
    assert "more than 20 minutes on a CPU" in plan.warning and plan.offer_minutes == run_plan.OFFER_MINUTES
    assert not plan.refusal


def test_a_short_run_or_a_gpu_gets_no_warning():
    assert form_plan({**DEFAULTS, "steps": 50, "size": 128, "batch": 2}, CAMVID_LIKE, LAPTOP).warning == ""
    fast = form_plan(DEFAULTS, CAMVID_LIKE, GPU)
    assert fast.warning == "" and "this CUDA device" in fast.text and fast.seconds < 20 * 60
    epochs = form_plan({**DEFAULTS, "epochs": 3, "batch": 2}, CAMVID_LIKE, LAPTOP)
    assert epochs.text.startswith("About 9 steps")  # 6 training images / batch 2 x 3 epochs


def test_a_budget_is_planned_by_the_engines_rule_and_ends_on_time():
    plan = form_plan({**DEFAULTS, "minutes": 10}, CAMVID_LIKE, LAPTOP)
    assert plan.text.startswith("A 10 min time budget on this CPU: ") and "px crops, batch" in plan.text
    assert not plan.warning and not plan.refusal and plan.seconds <= 600
    engine = budget.plan(10, run_plan.SETUP_S, LAPTOP.cost, budget.candidates(512, 8, [480] * 8),
                         lambda c: 0.0, 0.0)
    assert f"{engine.size} px crops" in plan.text or engine.steps >= budget.CHOICE_STEPS


def test_a_budget_too_short_is_refused_in_one_line():
    slow = MachineCost(StepCost(1.0, 5e-5), "cpu", 2e-5, 15_000_000, "x")
    plan = form_plan({**DEFAULTS, "minutes": 1}, CAMVID_LIKE, slow)
    assert "too short to learn anything" in plan.refusal and "\n" not in plan.refusal
    assert "too short" in form_plan({**DEFAULTS, "minutes": 0.2}, CAMVID_LIKE, LAPTOP).refusal
    assert form_plan(DEFAULTS, [], LAPTOP).text.startswith("Label some images first")


def test_the_last_runs_pace_is_read_back_and_bad_values_are_not():
    history = {"pace": {"device": "cpu", "size": 256, "batch": 4, "step_s": 1.2, "setup_s": 7.5, "variant": "b0"}}
    cost = run_plan.from_history(history, "models/last")
    assert cost.cost.seconds(256, 4) == pytest.approx(1.2) and cost.setup_s == 7.5
    assert cost.source == "from the last run, models/last" and cost.on_cpu
    for bad in ({}, {"pace": "fast"}, {"pace": {"size": 256, "batch": 4, "step_s": -1}},
                {"pace": {"size": True, "batch": 4, "step_s": 1}}, None):
        assert run_plan.from_history(bad, "x") is None


PROBE = {"device": "cpu", "variant": "b0", "measured": [(128, 2, 0.3), (128, 4, 0.5)],
         "forward_px_s": 2e-6, "model_bytes": 15_000_000}


@pytest.fixture
def flows(tmp_path, monkeypatch):
    probes = []

    def probe(variant, device):
        probes.append((variant, device))
        return PROBE
    monkeypatch.setattr(plan_preview, "probe_job", probe)
    image_dir, save_dir = labelled_project(tmp_path / "p")
    flows = Flows()
    flows.open(image_dir, save_dir)
    flows.probes = probes
    return flows


def test_the_form_plan_measures_once_off_the_gui_thread_then_follows_the_form(flows):
    preview = flows.training.plan
    shown = []
    preview.changed.connect(shown.append)
    first = preview.update(DEFAULTS)
    assert first.text == plan_preview.MEASURING and flows.probes == []  # queued on the "plan" pool
    flows.run()
    assert flows.probes == [("b0", "auto")]
    assert shown[-1].text.startswith("About 2000 steps") and "measured just now with B0" in shown[-1].text
    assert shown[-1].warning and shown[-1].offer_minutes == 10
    budgeted = preview.update({**DEFAULTS, "minutes": 10})  # arithmetic now: no second probe
    assert budgeted.text.startswith("A 10 min time budget") and flows.pools.pending == 0
    flows.run()
    assert flows.probes == [("b0", "auto")]
    preview.update({**DEFAULTS, "init": "b2"})  # another model size is measured for itself
    flows.run()
    assert flows.probes[-1] == ("b2", "auto")


def test_train_refuses_a_budget_too_short_before_starting(flows, monkeypatch):
    slow = {**PROBE, "measured": [(128, 2, 5.0), (128, 4, 5.1)]}  # 5 s a step, whatever the crop
    monkeypatch.setattr(plan_preview, "probe_job", lambda variant, device: slow)
    flows.training.plan.update({**DEFAULTS, "minutes": 1})
    flows.run()
    refusal = flows.training.start({**DEFAULTS, "minutes": 1, "init": "b0"})
    assert refusal is not None and refusal.error and "too short to learn anything" in refusal.text
    assert not flows.training.running


def test_the_last_run_of_this_project_gives_the_figures_without_a_probe(flows):
    folder = a_model(flows.session.project.save_dir / "models" / "last")
    write_history(folder, [], {"pace": {"device": "cpu", "size": 256, "batch": 4, "step_s": 1.2,
                                        "setup_s": 6.0, "variant": "b0"}})
    flows.training.plan.invalidate()
    plan = flows.training.plan.update({**DEFAULTS, "device": "cpu"})
    assert "from the last run, models/last" in plan.text and flows.pools.pending == 0 and flows.probes == []
