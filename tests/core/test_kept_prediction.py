"""The "good enough" arithmetic: the share of a prediction kept in the saved mask, and the plateau
rule over the labelling order."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core.kept_prediction import WINDOW, kept_share, plateau, plateau_sentence


def _prediction() -> np.ndarray:
    shown = np.zeros((20, 30), np.uint8)
    shown[:, 10:20] = 1
    shown[:, 20:] = 2
    return shown


def test_a_kept_prediction_scores_one_and_a_fully_repainted_one_zero() -> None:
    shown = _prediction()
    kept = kept_share(shown, shown.copy())
    assert kept.overall == 1.0 and kept.per_class == {0: 1.0, 1: 1.0, 2: 1.0}
    repainted = (shown + 1) % 3  # every pixel another class
    assert kept_share(shown, repainted).overall == 0.0


def test_a_partly_kept_prediction_scores_each_class() -> None:
    shown = _prediction()
    saved = shown.copy()
    saved[:, 15:20] = 2  # half of class 1 repainted as class 2
    share = kept_share(shown, saved)
    assert share.per_class[0] == 1.0
    assert share.per_class[1] == pytest.approx(0.5)  # 100 kept of 200 predicted
    assert share.per_class[2] == pytest.approx(200 / 300)
    assert share.overall == pytest.approx((1.0 + 0.5 + 200 / 300) / 3)


def test_unlabelled_pixels_count_for_nothing() -> None:
    shown = _prediction()
    saved = np.full_like(shown, 255)
    assert kept_share(shown, saved) is None  # nothing decided
    saved[:, :10] = 0
    assert kept_share(shown, saved).overall == 1.0  # only where the user decided
    with pytest.raises(ValueError):
        kept_share(shown, saved[:, :5])


def test_the_plateau_needs_a_full_window_that_no_longer_rises() -> None:
    rising = list(np.linspace(0.3, 0.9, 20))
    assert plateau(rising) is None and plateau_sentence(rising) is None
    settled = rising + [0.91, 0.93, 0.92, 0.92, 0.9, 0.93, 0.92, 0.91, 0.93, 0.92]
    assert plateau(settled) == pytest.approx(np.mean(settled[-WINDOW:]))
    assert plateau_sentence(settled) == ("The model's pre-fill is kept at 92 % over the last 10 images: "
                                         "more labels change little.")
    assert plateau([0.9] * (WINDOW - 1)) is None  # too few images to say
    swinging = [0.9, 0.3] * (WINDOW // 2)
    assert plateau(swinging) is None  # the mean does not rise, but it is no steady level
