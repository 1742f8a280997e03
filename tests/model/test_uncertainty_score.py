"""The per-image uncertainty score on hand-made probability maps (no training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segstudio.model import uncertainty
from segstudio.model.predictor import Prediction, uncertainty_maps
from segstudio.model.uncertainty import class_balanced_doubt, image_score


def _prediction(probs: np.ndarray) -> Prediction:
    """A Prediction with the maps the predictor would compute from (K, H, W) softmax ``probs``."""
    t = torch.from_numpy(probs.astype(np.float32)).log()  # logits whose softmax is ``probs``
    conf, ent, mar = (m.numpy() for m in uncertainty_maps(t))
    return Prediction(probs.argmax(0).astype(np.uint8), probs, conf, ent, mar)


def _confident(k: int = 4, h: int = 40, w: int = 40, p: float = 0.97) -> np.ndarray:
    """Background everywhere with a confident class-1 square in the middle."""
    probs = np.full((k, h, w), (1 - p) / (k - 1), np.float32)
    probs[0] = p
    probs[:, 10:20, 10:20] = (1 - p) / (k - 1)
    probs[1, 10:20, 10:20] = p
    return probs


def test_confident_map_scores_lower_than_one_confused_region():
    sure = _confident()
    confused = sure.copy()
    confused[:, 10:20, 10:20] = np.array([0.3, 0.35, 0.2, 0.15], np.float32)[:, None, None]
    assert _prediction(sure).score < _prediction(confused).score
    # a confused region 1/16 of the image moves the score far more than the old mean entropy did
    old = [float(_prediction(p).entropy.mean()) for p in (sure, confused)]
    new = [_prediction(p).score for p in (sure, confused)]
    assert new[1] - new[0] > 3 * (old[1] - old[0])


@pytest.mark.parametrize("case", ["one-hot", "uniform", "random", "one-pixel", "two-classes"])
def test_score_stays_in_unit_interval(case):
    rng = np.random.default_rng(0)
    k, h, w = 5, 17, 23
    if case == "one-hot":
        probs = np.eye(k, dtype=np.float32)[rng.integers(0, k, (h, w))].transpose(2, 0, 1)
    elif case == "uniform":
        probs = np.full((k, h, w), 1 / k, np.float32)
    elif case == "random":
        probs = rng.dirichlet(np.full(k, 0.3), size=(h, w)).astype(np.float32).transpose(2, 0, 1)
    elif case == "one-pixel":
        probs = np.full((k, 1, 1), 1 / k, np.float32)
    else:
        k = 2
        probs = np.stack([np.full((h, w), 0.5), np.full((h, w), 0.5)]).astype(np.float32)
    score = _prediction(probs).score
    assert 0.0 <= score <= 1.0
    if case == "one-hot":
        assert score == pytest.approx(0.0, abs=1e-5)
    if case in ("uniform", "one-pixel", "two-classes"):
        assert score == pytest.approx(1.0, abs=1e-5)


def test_ranks_a_confused_small_object_above_a_mildly_unsure_background():
    """The property the file list needs: images ordered by how wrong the model is on them.

    Three images of one scene. A: everything right, background mildly unsure. B: a small object
    (4 % of the image) predicted as the wrong class and the model torn about it. C: the same
    object torn, plus a second wrong one. The true per-image mIoU error grows A < B < C; the plain
    mean entropy put A first (its unsure background outweighs the small objects)."""
    k, h, w = 4, 50, 50
    gt = np.zeros((h, w), np.uint8)
    gt[5:15, 5:15] = 1
    gt[30:40, 30:40] = 2
    base = np.eye(k, dtype=np.float32)[gt].transpose(2, 0, 1) * 0.94 + 0.02
    a = base.copy()
    a[:, gt == 0] = np.array([0.6, 0.14, 0.13, 0.13], np.float32)[:, None]
    b = base.copy()
    b[:, 5:15, 5:15] = np.array([0.1, 0.38, 0.12, 0.4], np.float32)[:, None, None]
    c = b.copy()
    c[:, 30:40, 30:40] = np.array([0.1, 0.4, 0.35, 0.15], np.float32)[:, None, None]
    preds = [_prediction(p) for p in (a, b, c)]
    errors = [_miou_error(p.labels, gt, k) for p in preds]
    assert errors[0] < errors[1] < errors[2]
    scores = [p.score for p in preds]
    assert scores[0] < scores[1] < scores[2], scores
    old = [float(p.entropy.mean()) for p in preds]
    assert old[0] > old[1]  # what the old score got wrong


def _miou_error(pred: np.ndarray, gt: np.ndarray, k: int) -> float:
    ious = [((pred == c) & (gt == c)).sum() / ((pred == c) | (gt == c)).sum()
            for c in range(k) if ((pred == c) | (gt == c)).any()]
    return 1.0 - float(np.mean(ious))


def test_banded_sums_equal_one_pass(monkeypatch):
    rng = np.random.default_rng(1)
    margin = rng.random((37, 29)).astype(np.float32)
    labels = rng.integers(0, 6, (37, 29)).astype(np.uint8)
    labels[labels == 3] = 2  # a class index with no pixels
    want = np.mean([1 - margin[labels == c].mean() for c in np.unique(labels)])
    assert class_balanced_doubt(margin, labels) == pytest.approx(want, rel=1e-6)
    monkeypatch.setattr(uncertainty, "_BAND_PIXELS", 29 * 3)  # 3 rows a band, a partial last band
    assert class_balanced_doubt(margin, labels) == pytest.approx(want, rel=1e-6)
    assert image_score(margin, labels) == pytest.approx(want, rel=1e-6)


def test_bad_maps_are_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        class_balanced_doubt(np.zeros((3, 4), np.float32), np.zeros((4, 3), np.uint8))
    assert class_balanced_doubt(np.zeros((0, 4), np.float32), np.zeros((0, 4), np.uint8)) == 0.0
    with pytest.raises(ValueError, match="uncertainty=True"):
        _ = Prediction(np.zeros((2, 2), np.uint8)).score


@pytest.mark.parametrize("k", [1, 2, 5, 150])
def test_maps_from_logits_equal_the_textbook_definitions(k):
    """Confidence = top probability, margin = top minus second, entropy = -sum p log p / log K,
    from the softmax over dim 0; two tied top classes have no margin."""
    logits = torch.randn(k, 7, 9, generator=torch.Generator().manual_seed(k)) * 4
    if k > 1:
        logits[1, 0, 0] = logits[0, 0, 0] = logits[:, 0, 0].max() + 1  # a tie at the top
    probs = logits.softmax(0)
    top = probs.topk(min(2, k), dim=0).values
    conf, ent, mar = uncertainty_maps(logits)
    assert torch.allclose(conf, top[0], atol=1e-6)
    expected_margin = top[0] - top[1] if k > 1 else torch.ones_like(conf)
    assert torch.allclose(mar, expected_margin, atol=1e-6)
    if k > 1:
        assert mar[0, 0] == 0
        expected_entropy = -(probs * probs.clamp_min(1e-30).log()).sum(0) / np.log(k)
    else:
        expected_entropy = torch.zeros_like(conf)
    assert torch.allclose(ent, expected_entropy, atol=1e-5)
