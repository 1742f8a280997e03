"""The time budget's rule (model/training/budget.py): pure arithmetic, no clock and no torch."""

from __future__ import annotations

import pytest

from segstudio.model.training import budget
from segstudio.model.training.budget import Candidate, StepCost


def test_the_step_cost_is_a_line_through_two_measured_points():
    cost = StepCost.fit([(128, 2, 0.3), (128, 4, 0.5)])
    assert cost.seconds(128, 2) == pytest.approx(0.3) and cost.seconds(128, 4) == pytest.approx(0.5)
    assert cost.fixed_s == pytest.approx(0.1)
    assert cost.seconds(256, 4) == pytest.approx(0.1 + 0.2 / (2 * 128 * 128) * 4 * 256 * 256)
    # noise that would make the fixed part negative: proportional through the larger point
    noisy = StepCost.fit([(128, 2, 0.4), (128, 4, 0.5)])
    assert noisy.fixed_s >= 0 and noisy.seconds(128, 4) == pytest.approx(0.5)
    slower_small = StepCost.fit([(128, 2, 0.6), (128, 4, 0.5)])  # warm-up noise: never a negative slope
    assert slower_small.fixed_s == 0 and slower_small.seconds(128, 4) == pytest.approx(0.5)
    assert StepCost.fit([(64, 2, 0.2)]).seconds(64, 4) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        StepCost.fit([])


def test_candidates_never_crop_above_the_images_and_keep_the_batch_before_the_crop():
    photos = budget.candidates(512, 8, [480] * 9)  # CamVid: 480x360, crops up to 0.8 x 480
    assert photos[:3] == [Candidate(384, 8), Candidate(352, 8), Candidate(320, 8)]
    assert photos[8:10] == [Candidate(128, 8), Candidate(384, 4)]  # every crop at the user's batch first
    batches = [c.batch for c in photos]
    assert batches == sorted(batches, reverse=True)
    sizes = sorted({c.size for c in photos}, reverse=True)
    assert sizes == list(range(384, 127, -32)) and all(s % 32 == 0 and s >= budget.MIN_SIZE for s in sizes)
    assert min(c.batch for c in photos) == budget.MIN_BATCH
    generated = budget.candidates(512, 8, [160] * 5)  # the loop benchmark's 160 px images
    assert generated[:3] == [Candidate(128, 8), Candidate(128, 4), Candidate(128, 2)]
    assert budget.candidates(256, 2, [2000])[0] == Candidate(256, 2)  # the user's size is the ceiling
    assert {c.size for c in budget.candidates(512, 8, [64])} == {64}  # tiny images keep their size
    assert budget.candidates(512, 1, []) == [Candidate(s, 1) for s in range(512, 127, -32)]
    assert {c.size for c in budget.candidates(2048, 2, [])} == set(range(2048, 511, -32))  # a quarter
    assert budget.candidates(64, 2, [80]) == [Candidate(64, 2)]


def _plan(minutes, cost, spent=10.0, longs=(480,), val=2.0, write=2.0):
    options = budget.candidates(512, 8, list(longs))
    return budget.plan(minutes, spent, cost, options, lambda c: val, write), options


def test_a_plan_takes_the_first_pair_that_fits_the_target_and_spends_the_rest_on_steps():
    cost = StepCost(0.05, 2e-6)  # 480 px x 8: ~3.7 s; 224 x 2: ~0.25 s
    plan, options = _plan(10, cost)
    assert plan.fits and plan.steps >= budget.CHOICE_STEPS
    chosen = options.index(Candidate(plan.size, plan.batch))
    for earlier in options[:chosen]:  # every pair it skipped fits fewer than the target
        reserve = budget.reserve(600, 2.0, 2.0)
        assert budget.steps_that_fit(600 - 10 - reserve, cost.seconds(earlier.size, earlier.batch)) \
            < budget.CHOICE_STEPS
    # the whole process, as planned, ends within the budget, with the margin for a busy machine
    assert plan.planned_s <= 600 and plan.planned_s > 0.85 * 600
    assert "time budget 10 min" in plan.notes[0] and "not 384 px, batch 8" in plan.notes[0]
    record = plan.record()
    assert record["steps"] == plan.steps and record["size"] == plan.size and record["minutes"] == 10


def test_a_short_budget_keeps_the_batch_and_shrinks_the_crop_before_halving_the_batch():
    """On the texture set at load 6-8, 173 steps of 128 px x 8 scored 0.340 held-out where the earlier
    rule's 544 steps of 128 px x 2 scored 0.199 (docs/training-budget.md)."""
    cost = StepCost(0.02, 1.0e-6)  # 128 x 8: ~0.15 s; 128 x 2: ~0.05 s
    plan, options = _plan(1, cost, longs=(160,))
    assert (plan.size, plan.batch) == (128, 8)
    assert budget.MIN_STEPS <= plan.steps < budget.CHOICE_STEPS  # fewer steps, the full batch
    assert budget.steps_that_fit(60 - 10 - plan.reserve_s, cost.seconds(128, 2)) >= budget.CHOICE_STEPS
    # CamVid-like photos: the crop shrinks at batch 8 until one fits the target
    plan, options = _plan(3, cost)
    assert plan.batch == 8 and plan.steps >= budget.CHOICE_STEPS and plan.size < 384
    larger = Candidate(plan.size + 32, 8)
    assert budget.steps_that_fit(180 - 10 - plan.reserve_s, cost.seconds(larger.size, 8)) < budget.CHOICE_STEPS
    # the batch is halved only when even the smallest crop at it fits fewer than MIN_STEPS
    slow = StepCost(0.2, 2e-5)
    plan, options = _plan(3, slow, longs=(160,))
    assert plan.batch < 8 and plan.steps >= budget.MIN_STEPS
    assert "not batch 8: even 128 px crops would fit fewer than" in plan.notes[0]


def test_a_long_budget_keeps_the_largest_pair_and_a_short_one_the_most_steps():
    fast = StepCost(0.01, 1e-8)  # a GPU: every pair fits the target
    plan, options = _plan(10, fast)
    assert (plan.size, plan.batch) == (384, 8) and plan.steps > budget.CHOICE_STEPS
    assert "not " not in plan.notes[0]
    slow = StepCost(0.2, 2e-5)
    plan, options = _plan(3, slow)
    assert (plan.size, plan.batch) == (options[-1].size, options[-1].batch)  # none fits: the most steps
    assert budget.MIN_STEPS <= plan.steps < budget.CHOICE_STEPS and plan.fits
    assert any(f"fewer than the {budget.FULL_STEPS}" in note for note in plan.notes)


def test_a_short_plan_from_scratch_trains_at_a_higher_rate_and_says_so():
    assert budget.short_run_lr(1e-3, budget.FULL_STEPS - 1) == pytest.approx(budget.SHORT_LR_SCALE * 1e-3)
    assert budget.short_run_lr(1e-3, 300) == pytest.approx(1.5e-3)
    assert budget.short_run_lr(1e-3, budget.FULL_STEPS) is None  # a full schedule keeps the recipe's
    plan, options = _plan(3, StepCost(0.2, 2e-5))
    assert not any("lr" in note for note in plan.notes)  # the planner says nothing of a rate not chosen
    plan.lr = budget.short_run_lr(1e-3, plan.steps)
    budget.explain(plan, options)
    assert any("lr 0.0015 (1.5x the recipe's" in note for note in plan.notes)
    assert plan.record()["lr"] == pytest.approx(1.5e-3)


def test_a_budget_too_short_to_learn_says_so_in_one_line_with_what_would_do():
    slow = StepCost(0.2, 2e-5)
    plan, _ = _plan(1, slow)
    assert not plan.fits and plan.steps < budget.MIN_STEPS
    assert "\n" not in plan.reason and "too short to learn anything" in plan.reason
    need = budget.needed_minutes(plan)
    again, _ = _plan(need, slow)
    assert again.fits, (need, again.steps)
    assert budget.check_minutes(0.2) and "too short" in budget.check_minutes(0.2)
    assert budget.check_minutes(float("nan")) and budget.check_minutes(-1)
    assert budget.check_minutes(2) is None


def test_validation_is_reserved_but_bounded():
    assert budget.reserve(600, 1.0, 2.0) == 10 * 1.0 + 1.0 + 2.0 + budget.EXIT_S
    expensive = budget.reserve(600, 30.0, 2.0)  # ten 30 s validations would take half the budget
    assert expensive == budget.VAL_SHARE * 600 + 30.0 + 2.0 + budget.EXIT_S


def test_a_replan_follows_the_measured_pace_within_limits():
    # 100 of 400 steps done, 300 s left before the reserve
    assert budget.replanned(100, 400, 300.0, 1.0, 400) == 100 + int(300 * budget.GUARD_SHARE)  # 2 % late
    late = budget.replanned(100, 400, 300.0, 2.0, 400)  # twice as slow: fewer steps
    assert late == 100 + int(300 * budget.GUARD_SHARE / 2.0)
    early = budget.replanned(100, 400, 300.0, 0.5, 400)  # twice as fast: more, as the time allows
    assert early == 100 + int(300 * budget.GUARD_SHARE / 0.5)
    capped = budget.replanned(100, 400, 3000.0, 0.1, 400)
    assert capped == int(budget.GUARD_CEILING * 400)
    assert budget.replanned(100, 400, -5.0, 1.0, 400) == 101  # out of time: end at the next step
    assert budget.replanned(100, 400, 300 / budget.GUARD_SHARE, 1.0, 400) is None  # on time
    assert budget.reserve_left(2.0, 3, 1.0) == 6.0 + 1.0 + budget.EXIT_S
    assert budget.replanned(100, 400, 300.0, 2.0, 400, damped=True) == (late + 400) // 2  # half-way early on


@pytest.mark.parametrize("slow_from, slow_pace", [(300, 1.5), (50, 0.35), (700, 3.0), (950, 3.0)])
def test_the_guard_keeps_a_run_on_time_when_the_machine_changes_pace(monkeypatch, slow_from, slow_pace):
    """A simulated run: planned at 0.5 s a step, the machine's pace changes at ``slow_from``; the guard
    re-plans from the recent pace and the last step ends before the deadline, close to it."""
    from segstudio.model.training import budget_run
    from segstudio.model.training.types import TrainConfig

    clock = [1000.0]
    monkeypatch.setattr(budget_run.time, "time", lambda: clock[0])
    notes: list[str] = []
    run = budget_run.BudgetRun(TrainConfig(minutes=10, budget_start=1000.0), notes)
    run.plan, run.first_total, run.val_s, run.write_s = budget.Plan(10, 128, 2, 1000, 0.5, 10, 20), 1000, 0.1, 1.0
    clock[0], steps_s, total, step = 1010.0, 0.0, 1000, 0
    while step < total:
        step += 1
        pace = 0.5 if step < slow_from else slow_pace
        pace = 2.0 if step <= 10 else pace  # warm-up and thread trials: slow first steps mean nothing
        clock[0] += pace
        steps_s += pace
        new = run.after_step(step, total, steps_s, 1)
        total = new if new is not None else total
    end = clock[0] + budget.reserve_left(0.1, 1, 1.0)
    assert end <= 1600 and end > 1600 - 0.08 * 600, (end, step)
    assert total <= budget.GUARD_CEILING * 1000 and len([n for n in notes if "plan was changed" in n]) == 1
    assert step > 500  # the slow first steps did not cut the run short
