"""The Review dock's "Kept" page in the window: an image opened with a prediction and then saved
becomes a point, and the sentence says when the last images have settled."""

from __future__ import annotations

import numpy as np

from segstudio.application.review.kept_record import KeptRecord
from segstudio.gui.docks.kept_plot import EMPTY, KeptPlot


def _records(shares: list[float]) -> list[KeptRecord]:
    return [KeptRecord(f"img{i}", i, s, {}, "m", 0.0) for i, s in enumerate(shares)]


def test_the_page_says_how_much_was_kept_and_when_it_settled(qtbot) -> None:
    plot = KeptPlot()
    qtbot.addWidget(plot)
    assert plot.sentence.text() == EMPTY
    plot.set_records(_records([0.4, 0.6, 0.7]))
    assert "10 images are needed" in plot.sentence.text() and plot.chart.shares == [0.4, 0.6, 0.7]
    plot.set_records(_records(list(np.linspace(0.3, 0.9, 12)) + [0.92] * 10))
    assert plot.sentence.text().startswith("The model's pre-fill is kept at 92 % over the last 10 images")
    plot.resize(320, 200)
    plot.show()
    plot.chart.grab()  # paints without error


def test_the_window_records_a_saved_image_that_was_opened_with_a_prediction(qtbot, window) -> None:
    features = window.model_features
    assert features.review_dock.tabs.tabText(features.review_dock.tabs.count() - 1) == "Kept"
    session = window.session
    shape = session.document.label.shape
    names = list(session.project.classes.names)
    features.review.show_live(session.entry.image_path, np.ones(shape, np.uint8), names)
    session.document.fill_rect(0, 0, shape[1], shape[0], 1)
    session.save_async()
    qtbot.waitUntil(lambda: len(features.kept.records) == 1, timeout=20000)
    assert features.kept.records[0].overall == 1.0
    assert features.kept_plot.chart.shares == [1.0]
