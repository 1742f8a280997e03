"""The simulated person of tests/benchmarks/clicks_to_mask.py: where it clicks, and how clicks are counted."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from click_sim import (
    MAX_CLICKS,
    clicks_to,
    farthest_from_edge,
    iou,
    iou_after,
    jittered,
    jittered_box,
    next_click,
)

RNG = np.random.default_rng(0)


def rect(shape: tuple[int, int], x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_first_click_is_the_point_farthest_from_the_edge() -> None:
    # an L: a thick 20x20 block with a long thin arm; its centre of mass lies off the block's centre
    truth = rect((60, 80), 10, 10, 30, 30) | rect((60, 80), 30, 26, 75, 30)
    valid = np.ones_like(truth)
    click = next_click(truth, np.zeros_like(truth), valid, RNG, sigma=0)
    assert click is not None and click.positive
    assert (click.x, click.y) in {(19, 19), (20, 19), (19, 20), (20, 20)}  # the block's middle
    assert click.depth == pytest.approx(10, abs=0.6)


def test_the_image_border_counts_as_an_edge() -> None:
    truth = rect((40, 40), 0, 0, 40, 10)  # a band along the top: its centre row is 4 or 5, not 0
    x, y = farthest_from_edge(truth)
    assert y in (4, 5)
    assert farthest_from_edge(np.zeros((5, 5), bool)) is None


def test_next_click_aims_at_the_largest_error_region_with_the_right_sign() -> None:
    shape = (80, 80)
    truth = rect(shape, 10, 10, 50, 50)
    valid = np.ones(shape, bool)
    # missed: the 8x40 strip x 42..50 (320 px); wrongly taken: a 20x20 block outside (400 px)
    prediction = rect(shape, 10, 10, 42, 50) | rect(shape, 55, 55, 75, 75)
    click = next_click(truth, prediction, valid, RNG, sigma=0)
    assert not click.positive and 55 <= click.x < 75 and 55 <= click.y < 75
    assert (click.x, click.y) in {(64, 64), (65, 64), (64, 65), (65, 65)}
    # the extra block made small (4x4 = 16 px): now the missed strip is larger
    prediction = rect(shape, 10, 10, 42, 50) | rect(shape, 60, 60, 64, 64)
    click = next_click(truth, prediction, valid, RNG, sigma=0)
    assert click.positive and 42 <= click.x < 50 and 10 <= click.y < 50
    assert click.x in (45, 46)  # the strip's middle column


def test_largest_region_is_by_area_not_by_thickness() -> None:
    shape = (100, 100)
    truth = rect(shape, 0, 0, 100, 50)
    valid = np.ones(shape, bool)
    # missed: one long thin strip (4x90 = 360 px); wrongly taken: a thick but smaller block (15x15 = 225)
    prediction = rect(shape, 0, 0, 100, 50) & ~rect(shape, 5, 20, 95, 24)
    prediction |= rect(shape, 40, 70, 55, 85)
    click = next_click(truth, prediction, valid, RNG, sigma=0)
    assert click.positive and 20 <= click.y < 24


def test_ignored_pixels_are_never_errors() -> None:
    shape = (40, 40)
    truth = rect(shape, 10, 10, 30, 30)
    valid = ~rect(shape, 0, 0, 40, 8)  # void along the top
    prediction = truth | rect(shape, 0, 0, 40, 8)  # all the extra lies in the void
    assert next_click(truth, prediction, valid, RNG) is None
    assert iou(truth, prediction, valid) == 1.0


def test_jitter_moves_a_click_but_keeps_it_in_its_region_and_is_seeded() -> None:
    region = rect((50, 50), 20, 20, 30, 30)
    points = [jittered(region, (25, 25), np.random.default_rng(seed), sigma=3) for seed in range(30)]
    assert all(region[y, x] for x, y in points)
    assert len(set(points)) > 5
    assert jittered(region, (25, 25), np.random.default_rng(7)) == jittered(region, (25, 25), np.random.default_rng(7))
    thin = rect((50, 50), 25, 0, 26, 50)  # one column: every sideways draw falls outside
    assert all(jittered(thin, (25, 25), np.random.default_rng(s), sigma=3)[0] == 25 for s in range(10))


def test_box_is_the_objects_box_give_or_take_the_jitter() -> None:
    truth = rect((100, 100), 30, 40, 60, 70)
    assert jittered_box(truth, RNG, sigma=0, margin=2) == (28, 38, 62, 72)
    x0, y0, x1, y1 = jittered_box(truth, np.random.default_rng(1), sigma=3, margin=2)
    assert abs(x0 - 28) <= 12 and abs(y1 - 72) <= 12
    assert jittered_box(rect((20, 20), 0, 0, 20, 20), RNG, sigma=0) == (0, 0, 20, 20)  # clipped to the image


def test_noc_counts_clicks_to_the_threshold_and_the_budget_when_never_reached() -> None:
    ious = [0.5, 0.84, 0.86, 0.89, 0.91]
    assert clicks_to(ious, 0.85) == 3
    assert clicks_to(ious, 0.90) == 5
    assert clicks_to(ious, 0.95) == MAX_CLICKS == 20
    assert clicks_to([0.9], 0.90) == 1  # reaching it exactly counts
    assert clicks_to([0.1] * 25 + [0.99], 0.90) == 20  # past the budget does not count
    assert iou_after(ious, 1) == 0.5 and iou_after(ious, 3) == 0.86
    assert iou_after([0.95, 1.0], 5) == 1.0  # stopped early: the last mask stands
    assert iou_after([], 1) == 0.0


def test_iou_over_valid_pixels() -> None:
    shape = (10, 10)
    a, b = rect(shape, 0, 0, 4, 10), rect(shape, 2, 0, 6, 10)
    assert iou(a, b, np.ones(shape, bool)) == pytest.approx(20 / 60)
    assert iou(np.zeros(shape, bool), np.zeros(shape, bool), np.ones(shape, bool)) == 1.0


class ScriptedTool:
    """A tool whose proposal after click k is ``masks[k]``; it records the clicks it was given."""

    random = False
    note = ""

    def __init__(self, masks: list[np.ndarray], first: np.ndarray | None = None) -> None:
        self.masks, self.first, self.clicks = masks, first, []

    def begin(self, image: np.ndarray, key: str, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        return self.first

    def click(self, click) -> np.ndarray:
        self.clicks.append(click)
        return self.masks[min(len(self.clicks), len(self.masks)) - 1]


def scene() -> tuple[np.ndarray, object]:
    from clicks_to_mask import CamvidObject

    truth = rect((60, 60), 10, 10, 40, 40)
    return np.zeros((60, 60, 3), np.uint8), CamvidObject("scene", "car", truth, np.ones_like(truth))


def test_the_harness_goes_on_to_five_clicks_then_stops_once_past_90() -> None:
    from clicks_to_mask import simulate

    image, obj = scene()
    almost = obj.truth & ~rect(obj.truth.shape, 10, 10, 40, 12)  # 28 of 30 rows: IoU 0.933
    tool = ScriptedTool([almost])
    outcome = simulate(tool, image, obj, np.random.default_rng(0), sigma=0)
    assert len(outcome.ious) == 5 and outcome.ious[0] == pytest.approx(28 / 30)
    assert tool.clicks[0].positive and (tool.clicks[0].x, tool.clicks[0].y) == (24, 24)  # the centre first
    assert all(c.positive and c.y in (10, 11) for c in tool.clicks[1:])  # then the missed strip
    assert clicks_to(outcome.ious, 0.85) == clicks_to(outcome.ious, 0.90) == 1


def test_the_harness_stops_at_the_budget_or_when_nothing_is_left() -> None:
    from clicks_to_mask import simulate

    image, obj = scene()
    wrong = rect(obj.truth.shape, 45, 45, 60, 60)  # never any of the object
    outcome = simulate(ScriptedTool([wrong]), image, obj, np.random.default_rng(0), sigma=0)
    assert len(outcome.ious) == MAX_CLICKS and clicks_to(outcome.ious, 0.85) == MAX_CLICKS
    outcome = simulate(ScriptedTool([obj.truth]), image, obj, np.random.default_rng(0), sigma=0)
    assert outcome.ious == [1.0]  # exact after one click: no error region left to click
    # a first gesture that is not a click (GrabCut's box) counts as the first
    tool = ScriptedTool([obj.truth], first=wrong)
    outcome = simulate(tool, image, obj, np.random.default_rng(0), sigma=0)
    assert outcome.ious == [0.0, 1.0] and len(tool.clicks) == 1
