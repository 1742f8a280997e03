"""The plan before Train in the window: a fresh form on a CPU plans a time budget; the automatic
length says how long it would take, warns, and one click switches to the budget (the probe is
conftest's steady laptop, so nothing here times this machine)."""

from __future__ import annotations

import pytest
from model_fixtures import make_project


@pytest.fixture
def labelled(tmp_path):
    return make_project(tmp_path / "synth", count=10, size=64, seed=1)


def test_the_form_shows_the_plan_and_offers_the_budget(qtbot, make_window, labelled):
    image_dir, save_dir = labelled
    dock = make_window(image_dir, save_dir=save_dir).model_features.train_dock
    plan = dock.plan_view
    qtbot.waitUntil(lambda: "time budget" in plan.text.text(), timeout=10000)
    assert plan.text.text().startswith("A 10 min time budget on this CPU: 64 px crops")  # the images' own size
    assert plan.warning.isHidden() and plan.offer.isHidden()
    dock.length_box.setValue(0)  # the automatic length: about 2000 steps
    dock.unit_box.setCurrentText("steps")
    dock.size_box.setValue(512)
    # 10 labelled images: 1 validates (5 %, at least one), 9 train
    assert plan.text.text().startswith("About 2000 steps of 512 px crops, batch 8 on 9 training images")
    assert "on this CPU" in plan.text.text() and not plan.warning.isHidden()
    assert "more than 20 minutes on a CPU" in plan.warning.text()
    assert plan.offer.text() == "Use a 10-minute time budget" and not plan.offer.isHidden()
    plan.offer.click()
    assert dock.unit_box.currentText() == "minutes" and dock.length_box.value() == 10
    assert dock.form_values()["minutes"] == 10.0 and dock.form_values()["steps"] is None
    assert plan.text.text().startswith("A 10 min time budget") and plan.offer.isHidden()
    dock.unit_box.setCurrentText("steps")
    dock.length_box.setValue(50)
    dock.size_box.setValue(128)
    assert plan.text.text().startswith("About 50 steps") and plan.warning.isHidden()
