"""Live mode's two learners without Qt: the instant learner overlays the first strokes of two classes
before the deep model is made, both learn without the strokes kept aside, and the overlay switches to
the deep model only once it predicts those aside pixels better (and back, with a margin)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from segstudio.application.live.instant import InstantLearner
from segstudio.application.live.live_session import LiveSession
from segstudio.application.live.shown_model import DEEP, INSTANT, MIN_ASIDE, ShownModel, aside_mask, split_aside
from segstudio.core.palette import IGNORE_INDEX


class _Project:
    entries: list = []

    def labelled_entries(self) -> list:
        return []


class _Deep:
    """A stand-in deep model that predicts a fixed answer and records what it was taught."""

    def __init__(self, answer: np.ndarray) -> None:
        self.answer, self.steps, self.taught = answer, 0, []

    def labels_changed(self) -> None:
        pass

    def train(self, samples, steps, should_stop) -> float:
        self.taught.extend(label.copy() for _, label in samples)
        self.steps += steps
        return 0.5

    def predict(self, rgb) -> np.ndarray:
        return self.answer


def _halves(size: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red left half and a blue right half; the truth; strokes down the middle of each half."""
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[:, : size // 2] = (200, 40, 40)
    rgb[:, size // 2:] = (40, 40, 200)
    truth = np.ones((size, size), np.uint8)
    truth[:, size // 2:] = 2
    strokes = np.full((size, size), IGNORE_INDEX, np.uint8)
    strokes[4:-4, 20:26] = 1
    strokes[4:-4, 70:76] = 2
    return rgb, truth, strokes


def test_the_first_overlay_comes_from_the_instant_learner_before_the_deep_model_is_made() -> None:
    rgb, truth, strokes = _halves()
    made: list[_Deep] = []
    session = LiveSession(_Project(), lambda: made.append(_Deep(np.zeros_like(truth))) or made[-1], num_classes=3)
    one_class = np.where(strokes == 2, IGNORE_INDEX, strokes).astype(np.uint8)
    assert session.instant.update([(rgb, one_class)])[0].tolist() == [1]
    assert not session.instant.ready(np.array([1]))
    first = session.cycle(None, rgb, strokes, lambda: False)
    assert first.shown == INSTANT and first.steps == 0 and not made and math.isnan(first.loss)
    assert (first.labels == truth).mean() > 0.95
    second = session.cycle(None, rgb, strokes, lambda: False)
    assert len(made) == 1 and second.steps == 8
    taught = made[0].taught[0]  # the deep model never sees the strokes kept aside
    assert (taught[aside_mask(taught.shape)] == IGNORE_INDEX).all()
    kept = ~aside_mask(taught.shape) & (strokes != IGNORE_INDEX)
    assert (taught[kept] == strokes[kept]).all()  # the strokes as painted (the instant learner fills the rest)
    assert second.shown == INSTANT and (second.labels == truth).mean() > 0.95  # the deep one is all wrong


def test_a_deep_model_that_does_better_on_the_aside_strokes_is_shown() -> None:
    rgb, truth, strokes = _halves()
    session = LiveSession(_Project(), lambda: _Deep(truth), num_classes=3)
    session.cycle(None, rgb, strokes, lambda: False)
    session.instant.classifier.params[2][:] = 0  # an instant learner that has forgotten everything
    session.instant.classifier.params[3][:] = np.array([0, 0, 5], np.float32)
    session._instant_since = 10**6  # settled: it trains no more
    result = session.cycle(None, rgb, strokes, lambda: False)
    assert result.shown == DEEP and (result.labels == truth).all() and session.rule.shown == DEEP
    instant, deep, count = session.rule.scores()
    assert deep == 1.0 and instant <= 0.5 and count >= MIN_ASIDE


def test_the_instant_learner_notices_new_strokes_only() -> None:
    rgb, _, strokes = _halves()
    learner = InstantLearner(3)
    classes, changed = learner.update([(rgb, strokes)])
    assert classes.tolist() == [1, 2] and changed
    assert not learner.update([(rgb, strokes.copy())])[1]  # the same labels, another array: no change
    more = strokes.copy()
    more[50:52, 30:40] = 1
    assert learner.update([(rgb, more)])[1]
    assert learner.ready(classes) and not math.isnan(learner.train(20)) and learner.steps == 20
    assert 0.0 <= learner.uncertainty(rgb) <= 1.0


def test_split_aside_partitions_the_labels() -> None:
    label = np.arange(100 * 100).reshape(100, 100).astype(np.uint8) % 5
    learn, kept = split_aside(label)
    assert ((learn == IGNORE_INDEX) ^ (kept == IGNORE_INDEX)).all()
    assert (np.where(learn == IGNORE_INDEX, kept, learn) == label).all()
    for shape in ((240, 240), (360, 480), (32, 32), (7, 400)):
        aside = aside_mask(shape)
        assert 0.1 < aside.mean() < 0.3, shape  # a share, never the whole image


def test_the_rule_switches_with_a_margin_and_back() -> None:
    rule = ShownModel(3)
    truth = np.full((40, 40), 1, np.uint8)
    truth[:, 20:] = 2
    right, wrong = truth.copy(), np.full_like(truth, 1)
    small = np.full_like(truth, IGNORE_INDEX)
    small[0, :5] = 1
    assert rule.record("a", small, wrong, right) == INSTANT  # too few aside pixels to judge
    assert rule.record("a", truth, right, right) == INSTANT  # equal: the instant learner stays
    assert rule.record("a", truth, wrong, right) == DEEP
    assert rule.record("a", truth, right, right) == DEEP  # equal again: no flicker back
    assert rule.record("b", truth, right, wrong) == INSTANT  # the latest of each image counts
    rule.forget()
    assert rule.shown == INSTANT and math.isnan(rule.scores()[0])


def test_pseudo_labels_fill_the_unpainted_pixels_where_the_instant_learner_is_sure() -> None:
    from segstudio.application.live.pseudo_labels import PseudoLabels

    rgb, truth, strokes = _halves()
    learn = split_aside(strokes)[0]
    learner = InstantLearner(3)
    learner.update([(rgb, learn)])
    learner.train(200)
    pseudo = PseudoLabels()
    assert pseudo.merged([(rgb, learn)])[0][1] is learn  # nothing predicted yet: the strokes alone
    pseudo.refresh(learner, [(rgb, learn)])
    merged = pseudo.merged([(rgb, learn)])[0][1]
    painted = learn != IGNORE_INDEX
    assert (merged[painted] == learn[painted]).all()  # strokes always win
    assert (merged[aside_mask(merged.shape)] == IGNORE_INDEX).all()  # the judge's pixels stay untaught
    filled = ~painted & ~aside_mask(merged.shape) & (merged != IGNORE_INDEX)
    assert filled.sum() > 0.5 * (~painted).sum() and (merged[filled] == truth[filled]).mean() > 0.95
    assert not pseudo.refresh(learner, [(rgb, learn)])  # up to date: a settled learner costs nothing
    learner.train(10)
    assert pseudo.refresh(learner, [(rgb, learn)])  # it learnt since: predicted again


def test_another_image_is_overlaid_by_the_instant_learner_before_the_next_burst() -> None:
    rgb, truth, strokes = _halves()
    made: list[_Deep] = []
    session = LiveSession(_Project(), lambda: made.append(_Deep(np.zeros_like(truth))) or made[-1], num_classes=3)
    here, there = Path("a.png"), Path("b.png")
    session.samples = lambda current, image, label: [(image, label)] + ([(rgb, strokes)] if image is not rgb else [])
    assert session.cycle(here, rgb, strokes, lambda: False).shown == INSTANT  # the first overlay
    assert session.cycle(here, rgb, strokes, lambda: False).steps == 8  # then the deep model learns
    other = rgb[:, ::-1].copy()  # the first image is saved: it is one of the project's labelled masks now
    quick = session.cycle(there, other, np.full_like(strokes, IGNORE_INDEX), lambda: False)
    assert quick.shown == INSTANT and quick.steps == 0 and made[0].steps == 8  # no burst before it
    assert (quick.labels == truth[:, ::-1]).mean() > 0.95
    assert session.cycle(there, other, np.full_like(strokes, IGNORE_INDEX), lambda: False).steps == 8


def test_a_settled_instant_learner_scores_each_other_image_once() -> None:
    rgb, truth, strokes = _halves()

    class _Entries(_Project):
        entries = [SimpleNamespace(image_path=Path(f"{i}.png")) for i in range(3)]

        def load_image(self, entry) -> np.ndarray:
            return rgb

    session = LiveSession(_Entries(), lambda: _Deep(np.zeros_like(truth)), num_classes=3)
    session.samples = lambda current, image, label: [(image, label)]
    here = Path("0.png")
    session.cycle(here, rgb, strokes, lambda: False)  # the first overlay
    session._instant_since = 10**6  # settled: it learns no more
    scored = [session.cycle(here, rgb, strokes, lambda: False).scored for _ in range(4)]
    assert scored == [Path("1.png"), Path("2.png"), None, None] and len(session.scores) == 2
