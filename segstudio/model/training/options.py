"""The one table of training options: name, type, default, help, command-line flag and limits.

Three places offer the same settings: ``segstudio-cli train``'s flags, the window's training form
and the settings the window remembers (QSettings ``train/<name>``). They used to keep their own
defaults and limits, and drifted apart (512 px minimum 64 in the form but 32 in the engine, 50
epochs in the form but about 2000 steps on the command line). Now :class:`TrainConfig`'s defaults,
the argparse options and the form's widgets are all read from :data:`OPTIONS`, and the engine checks
a config against the same limits (:func:`check_limits`).

No torch here: the window reads this table on the GUI thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from segstudio.core.errors import TrainingError
from segstudio.model.training.recipe import PRETRAINED_LR, SCRATCH_LR


def format_rate(value: float) -> str:
    """A learning rate as people write it: 6e-5, 1e-3, 2.5e-4 (not 6e-05 or 0.001)."""
    mantissa, exponent = f"{value:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


# The learning rate's default depends on the start: the recipe holds the two rates (one table).
LR_DEFAULTS = f"{format_rate(PRETRAINED_LR)} pretrained, {format_rate(SCRATCH_LR)} from scratch"
DEFAULT_STEPS = 2000   # when neither epochs nor steps is given (rounded up to whole epochs)
MAX_SIZE = 4096        # training crop side: far above any GPU's memory for a batch of crops
MAX_BATCH = 4096
MAX_STEPS = 10_000_000
MAX_SEED = 2**32 - 1   # what every random generator of a run (numpy's, torch's) takes
SIZE_MULTIPLE = 32     # SegFormer's total stride: a crop side that divides evenly at every stage
DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")  # plus "cuda:N" for one GPU of several


@dataclass(frozen=True)
class TrainOption:
    """One setting of a run. ``name`` is the :class:`TrainConfig` field (and the argparse dest and
    the QSettings key ``train/<name>``); ``flag`` is how the command line spells it: a switch whose
    default is on is spelt ``--no-...``. ``label`` names it in messages. ``minimum``/``maximum`` are
    inclusive except the ends named in ``exclusive`` ("low", "high" or "both"); ``in_form`` marks
    the options the window's training form offers and remembers."""

    name: str
    type: type
    default: Any
    help: str
    flag: str
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    multiple: int = 1
    exclusive: str = ""
    choices: tuple[str, ...] = ()
    in_form: bool = False
    defines_run: bool = True  # False: where and how fast it runs (may change on --resume)

    @property
    def is_switch(self) -> bool:
        return self.type is bool


OPTIONS: tuple[TrainOption, ...] = (
    TrainOption("init", str, "auto", "auto (the B0 ImageNet encoder when downloaded, else B0 from scratch), "
                "b0..b5 (from scratch), a catalogue name or hub id (segstudio-cli fetch-model --list), "
                "a checkpoint or a model folder",
                "--model", "starting model", in_form=True),
    TrainOption("epochs", int, None, "passes over the training images", "--epochs", "epochs", 1, MAX_STEPS,
                in_form=True),
    TrainOption("steps", int, None, f"optimiser steps (with neither: about {DEFAULT_STEPS}, whole epochs)",
                "--steps", "steps", 1, MAX_STEPS, in_form=True),
    TrainOption("minutes", float, None, "a time budget for the whole run: crop, batch and steps are chosen "
                "to end within it (docs/training-budget.md)", "--minutes", "time budget", 0.0, 7 * 24 * 60,
                exclusive="low", in_form=True),
    TrainOption("size", int, 512, f"training crop size, a multiple of {SIZE_MULTIPLE}", "--size",
                "training size", SIZE_MULTIPLE, MAX_SIZE, multiple=SIZE_MULTIPLE, in_form=True),
    TrainOption("batch", int, 8, "batch size", "--batch", "batch size", 1, MAX_BATCH, in_form=True),
    TrainOption("lr", float, None, f"learning rate (default: the recipe's, {LR_DEFAULTS})", "--lr",
                "learning rate", 0.0, 1.0, exclusive="both", in_form=True),
    TrainOption("loss", str, "ce", "e.g. ce, ce+dice, focal, 0.5*ce+1.0*dice", "--loss", "loss",
                in_form=True),
    TrainOption("class_weights", bool, False, "median-frequency class weights", "--class-weights",
                "class weights", in_form=True),
    TrainOption("augment", bool, True, "no random resize, flip or colour jitter (to check a model can "
                "fit the data)", "--no-augment", "augmentation"),
    TrainOption("label_smoothing", float, 0.0, "label smoothing of the cross-entropy", "--label-smoothing",
                "label smoothing", 0.0, 1.0, exclusive="high"),
    TrainOption("seed", int, 0, "seed of the split, the initialisation and the augmentation", "--seed",
                "seed", 0, MAX_SEED),
    TrainOption("grad_clip", float, None, "clip the gradient norm to this value", "--grad-clip",
                "gradient clipping norm", 0.0, exclusive="low"),
    TrainOption("amp", bool, True, "full precision (no bf16/fp16 autocast on CUDA or on a CPU with native bf16)",
                "--no-amp",
                "mixed precision"),
    TrainOption("device", str, "auto", "auto, cpu, cuda, cuda:1, mps", "--device", "device",
                choices=DEVICE_CHOICES, in_form=True, defines_run=False),
    TrainOption("name", str, "model", "model name: SAVE_DIR/models/NAME; an existing one is kept and the "
                "run saved as NAME-2 (unless --overwrite or --resume)", "--out", "model name",
                defines_run=False),  # the window names a run itself (blank: <start>-<date>)
    TrainOption("keep_state", bool, False, "keep training_state.pt (optimiser and step, about 3x the model) after "
                "a finished run, so that --resume can extend it; a stopped run always keeps it",
                "--keep-state", "keep the resumable state", defines_run=False),
    TrainOption("num_workers", int, 2, "DataLoader worker processes when the images stream from disk "
                "(the window always uses 0: no processes inside the GUI)", "--workers",
                "number of data workers", 0, 64, defines_run=False),
)
BY_NAME: dict[str, TrainOption] = {option.name: option for option in OPTIONS}


def option(name: str) -> TrainOption:
    """The option called ``name`` (a :class:`TrainConfig` field)."""
    return BY_NAME[name]


def default(name: str) -> Any:
    """The one default of option ``name``."""
    return BY_NAME[name].default


def form_options() -> list[TrainOption]:
    """The options the window's training form offers (and remembers)."""
    return [o for o in OPTIONS if o.in_form]


def out_of_limits(opt: TrainOption, value: Any) -> str | None:
    """Why ``value`` is outside ``opt``'s limits (one line), or None when it is inside or unset."""
    if value is None or opt.type not in (int, float):
        return None
    number = float(value)
    low_open, high_open = opt.exclusive in ("low", "both"), opt.exclusive in ("high", "both")
    inside = math.isfinite(number)
    if opt.minimum is not None:
        inside = inside and (number > opt.minimum if low_open else number >= opt.minimum)
    if opt.maximum is not None:
        inside = inside and (number < opt.maximum if high_open else number <= opt.maximum)
    if opt.multiple > 1:
        inside = inside and number % opt.multiple == 0
    return None if inside else f"{opt.label} must be {_bounds(opt)} (got {value})"


def _bounds(opt: TrainOption) -> str:
    """"from 1 to 4096", "in (0, 1)", "above 0", "a multiple of 32 from 32 to 4096"."""
    low, high = _number(opt.minimum), _number(opt.maximum)
    if low is not None and high is not None:
        text = f"from {low} to {high}"
        if opt.exclusive:
            text = f"in {'(' if opt.exclusive in ('low', 'both') else '['}{low}, {high}" \
                   f"{')' if opt.exclusive in ('high', 'both') else ']'}"
    elif low is not None:
        text = f"above {low}" if opt.exclusive == "low" else f"at least {low}"
    else:
        text = f"at most {high}"
    return f"a multiple of {opt.multiple} {text}" if opt.multiple > 1 else text


def check_limits(values: dict[str, Any]) -> None:
    """:class:`TrainingError` naming the first option of ``values`` outside its limits."""
    for name, value in values.items():
        opt = BY_NAME.get(name)
        reason = out_of_limits(opt, value) if opt is not None else None
        if reason:
            raise TrainingError(reason)


def _number(value: float | None) -> str | None:
    """10000000 rather than 1e+07; 0.5 as it is."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
