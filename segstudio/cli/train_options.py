"""The options of ``segstudio-cli train``: which were given, their defaults, and ``--resume``.

Every option that defines a run has ``None`` as its argparse default, so ``run`` can tell an
option the user typed from one left out; :data:`DEFAULTS` fills in the rest for a new run. A
resume takes the settings recorded in the run's state file instead, and refuses (one line naming
the option) an option typed with a value different from the recorded one: silently continuing a
128-px, 40-step run at 512 px and 2000 steps would rewrite the model the user meant to finish.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from segstudio.core.errors import OptionError

# option dest -> (TrainConfig field, default for a new run)
RUN_OPTIONS: dict[str, tuple[str, Any]] = {
    "model": ("init", "b0"), "epochs": ("epochs", None), "steps": ("steps", None),
    "size": ("size", 512), "batch": ("batch", 8), "lr": ("lr", None), "loss": ("loss", "ce"),
    "class_weights": ("class_weights", False), "augment": ("augment", True),
    "label_smoothing": ("label_smoothing", 0.0), "seed": ("seed", 0),
    "grad_clip": ("grad_clip", None), "amp": ("amp", True),
}
# options that may differ on a resume without changing the run (where and how fast it runs)
HARMLESS = ("device", "workers", "json")


def flag(dest: str) -> str:
    """The option as typed: ``class_weights`` -> ``--class-weights``, ``augment`` -> ``--no-augment``."""
    return {"augment": "--no-augment", "amp": "--no-amp", "model": "--model"}.get(
        dest, "--" + dest.replace("_", "-"))


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The run-defining options the user typed (their argparse default is None)."""
    return {dest: getattr(args, dest) for dest in RUN_OPTIONS if getattr(args, dest) is not None}


def new_run_fields(args: argparse.Namespace) -> dict[str, Any]:
    """TrainConfig fields of a new run: typed options over the defaults."""
    typed = given(args)
    return {field: typed.get(dest, default) for dest, (field, default) in RUN_OPTIONS.items()}


def resume_fields(args: argparse.Namespace, folder: Path, class_names: list[str]) -> tuple[dict, list[str]]:
    """TrainConfig fields of the run recorded in ``folder``, and notes for the user.

    Reads the state without changing anything; raises :class:`OptionError` for a typed option
    that contradicts the record and for a class list that changed since the run started.
    """
    from segstudio.model.train_types import config_from_options
    from segstudio.model.train_state import load_state

    state = load_state(folder)
    record, notes = _record(state, folder)
    recorded = config_from_options(record)
    for dest, value in given(args).items():
        field = RUN_OPTIONS[dest][0]
        if field not in record and dest not in ("epochs", "steps"):
            notes.append(f"{flag(dest)} {value} used: the run's state does not record it")
            record[field] = value
            continue
        _check_same(dest, value, recorded, record)
    names = record.get("class_names")
    if names is not None and list(names) != list(class_names):
        raise OptionError(f"the project's classes ({', '.join(class_names)}) differ from those the run "
                          f"{folder.name} was started with ({', '.join(names)}): resume with the same "
                          "classes.txt, or train a new model")
    return record, notes


def _record(state: dict, folder: Path) -> tuple[dict, list[str]]:
    """The recorded options; a state from before options were recorded gives its steps and seed."""
    record = state.get("options")
    if isinstance(record, dict):
        return dict(record), []
    record = {"steps": int(state["total_steps"]), "seed": int(state.get("seed", 0))}
    try:
        from segstudio.model.checkpoints import ModelInfo
        record["size"] = ModelInfo.from_json((folder / "config.json").read_text("utf-8")).image_size
    except (OSError, ValueError, TypeError):
        pass
    return record, [f"{folder.name} was saved before runs recorded their options: its steps ("
                    f"{record['steps']}) and seed are kept, other options are this command's"]


def _check_same(dest: str, value: Any, recorded, record: dict) -> None:
    """OptionError when a typed option differs from the run's recorded setting."""
    field = RUN_OPTIONS[dest][0]
    if dest in ("epochs", "steps"):
        was = record.get(field)
        if was is None:
            other = "steps" if dest == "epochs" else "epochs"
            raise OptionError(f"{flag(dest)} {value}: the run was recorded with --{other} "
                              f"{record.get(other)}; --resume continues it as recorded (drop {flag(dest)})")
        same = int(was) == int(value)
    elif dest == "lr":
        from segstudio.model.recipe import default_lr

        was = default_lr(recorded)
        same = math.isclose(float(value), was, rel_tol=1e-9)
    else:
        was = getattr(recorded, field)
        same = (float(was) == float(value)) if isinstance(was, float) else was == value
    if not same:
        shown = {"augment": "off", "amp": "off", "class_weights": "on"}.get(dest, value)
        recorded_text = {True: "on", False: "off"}.get(was, was) if isinstance(was, bool) else was
        raise OptionError(f"{flag(dest)} {shown} differs from the run's recorded {recorded_text}: "
                          f"--resume continues the run as it was recorded (drop {flag(dest)}, or "
                          "train a new model with another --out)")
