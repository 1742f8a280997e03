"""The one options table drives the command line and TrainConfig: same names, same defaults, same limits."""

from __future__ import annotations

import dataclasses

import pytest

from segstudio.cli.main import build_parser
from segstudio.cli.train_resume import new_run_fields
from segstudio.core.errors import TrainingError
from segstudio.model.training.options import OPTIONS, check_limits, option, out_of_limits
from segstudio.model.training.types import TrainConfig


def _train_args(*extra: str):
    return build_parser().parse_args(["train", "SAVE", "--images", "IMAGES", *extra])


def test_every_option_is_a_trainconfig_field_with_the_tables_default() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for opt in OPTIONS:
        assert opt.name in defaults, opt.name
        assert defaults[opt.name] == opt.default, opt.name


def test_the_cli_offers_exactly_the_tables_flags_and_a_new_run_gets_its_defaults() -> None:
    train = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    flags = {s for action in train._actions for s in action.option_strings}
    own = {"-h", "--help", "--images", "--classes", "--overwrite", "--resume", "--json"}
    assert flags - own == {opt.flag for opt in OPTIONS}
    args = _train_args()
    fields = new_run_fields(args)
    for opt in OPTIONS:
        value = fields[opt.name] if opt.defines_run else getattr(args, opt.name)
        assert value == opt.default, opt.name
    assert TrainConfig(**fields, device=args.device, name=args.name, num_workers=args.num_workers) == TrainConfig()


def test_switches_turn_the_default_around_and_typed_values_win() -> None:
    args = _train_args("--no-augment", "--class-weights", "--no-amp", "--size", "256", "--model", "b1")
    fields = new_run_fields(args)
    assert (fields["augment"], fields["class_weights"], fields["amp"]) == (False, True, False)
    assert (fields["size"], fields["init"]) == (256, "b1")


@pytest.mark.parametrize("name, value, words", [
    ("size", 100, "multiple of 32"), ("size", 4128, "from 32 to 4096"), ("batch", 0, "batch size"),
    ("lr", 1.0, "(0, 1)"), ("lr", float("nan"), "learning rate"), ("label_smoothing", 1.0, "[0, 1)"),
    ("grad_clip", 0.0, "above 0"), ("num_workers", -1, "workers"), ("steps", 0, "from 1 to 10000000"),
])
def test_values_outside_the_limits_are_named(name: str, value, words: str) -> None:
    reason = out_of_limits(option(name), value)
    assert reason is not None and words in reason
    with pytest.raises(TrainingError, match=option(name).label):
        check_limits({name: value})


@pytest.mark.parametrize("name, value", [("size", 32), ("size", 4096), ("lr", 0.5), ("label_smoothing", 0.0),
                                         ("grad_clip", 1e-6), ("num_workers", 0), ("lr", None)])
def test_values_inside_the_limits_pass(name: str, value) -> None:
    assert out_of_limits(option(name), value) is None
