"""The training form and the remembered settings read the same options table as the command line."""

from __future__ import annotations

from segstudio.gui.window.settings import Settings
from segstudio.model.training.options import DEFAULT_STEPS, form_options, option
from segstudio.model.training.types import TrainConfig


def test_a_fresh_form_shows_the_tables_defaults_and_builds_the_default_config(window) -> None:
    dock = window.model_features.train_dock
    values = dock.form_values()
    assert set(values) == {opt.name for opt in form_options()}
    # never saved: a time budget (run_plan.fresh_values), every other option at the table's default
    assert values == {**{opt.name: opt.default for opt in form_options()}, "minutes": 10.0}
    config = dock.build_config()
    assert config == TrainConfig(name=config.name, minutes=10.0, budget_start=config.budget_start)
    assert dock.unit_box.currentText() == "minutes" and dock.length_box.value() == 10
    dock.length_box.setValue(0)
    assert dock.form_values() == {opt.name: opt.default for opt in form_options()}
    assert str(DEFAULT_STEPS) in dock.length_box.specialValueText()
    for name, box in (("size", dock.size_box), ("batch", dock.batch_box)):
        opt = option(name)
        assert (box.minimum(), box.maximum(), box.singleStep()) == (opt.minimum, opt.maximum, opt.multiple)
    devices = [dock.device_box.itemData(i) for i in range(dock.device_box.count())]
    assert tuple(devices) == option("device").choices


def test_settings_remember_the_form_under_the_option_names(window, settings: Settings) -> None:
    dock = window.model_features.train_dock
    assert settings.train_options() == {opt.name: opt.default for opt in form_options()}
    assert not settings.has_train_options()
    dock.size_box.setValue(256)
    dock.unit_box.setCurrentText("steps")
    dock.length_box.setValue(40)
    dock.lr_edit.setText("0.001")
    dock.weights_box.setChecked(True)
    dock.save_settings()
    keys = {key.removeprefix("train/") for key in settings.q.allKeys() if key.startswith("train/")}
    assert keys == {opt.name for opt in form_options()}
    remembered = settings.train_options()
    assert settings.has_train_options() and remembered == dock.form_values()
    assert (remembered["size"], remembered["steps"], remembered["epochs"], remembered["lr"]) == (256, 40, None, 1e-3)
    dock.set_form({opt.name: opt.default for opt in form_options()})
    dock.set_form(remembered)
    assert dock.form_values() == remembered


def test_an_unreadable_saved_value_falls_back_to_the_tables_default(settings: Settings) -> None:
    settings.set("train/size", "huge")
    settings.set("train/batch", "")
    settings.set("train/lr", "")
    values = settings.train_options()
    assert values["size"] == option("size").default and values["batch"] == option("batch").default
    assert values["lr"] is None
