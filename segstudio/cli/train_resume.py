"""The options of ``segstudio-cli train``: which were typed, the run they make, and ``--resume``.

Every option that defines a run has ``None`` as its argparse default, so ``run`` can tell an
option the user typed from one left out; the options table
(:data:`segstudio.model.training.options.OPTIONS`) fills in the rest for a new run. A
resume takes the settings recorded in the run's state file instead, and refuses (one line naming
the option) an option typed with a value different from the recorded one: silently continuing a
128-px, 40-step run at 512 px and 2000 steps would rewrite the model the user meant to finish.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from segstudio.core.errors import OptionError, TrainingError
from segstudio.model.training.options import BY_NAME, OPTIONS, check_limits

# The options that define a run (argparse dest = TrainConfig field); the others (device, workers,
# name) say where and how fast it runs and may differ on a resume.
RUN_OPTIONS = tuple(option.name for option in OPTIONS if option.defines_run)


def flag(name: str) -> str:
    """The option as typed: ``class_weights`` -> ``--class-weights``, ``augment`` -> ``--no-augment``."""
    return BY_NAME[name].flag


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The run-defining options the user typed (their argparse default is None)."""
    return {name: getattr(args, name) for name in RUN_OPTIONS if getattr(args, name) is not None}


def new_run_fields(args: argparse.Namespace) -> dict[str, Any]:
    """TrainConfig fields of a new run: typed options over the table's defaults."""
    typed = given(args)
    return {name: typed.get(name, BY_NAME[name].default) for name in RUN_OPTIONS}


def resume_fields(args: argparse.Namespace, folder: Path, class_names: list[str]) -> tuple[dict, list[str]]:
    """TrainConfig fields of the run recorded in ``folder``, and notes for the user.

    Reads the state without changing anything; raises :class:`OptionError` for a typed option
    that contradicts the record and for a class list that changed since the run started.
    """
    from segstudio.model.training.state import load_state

    state = load_state(folder)
    record, notes, recorded = _recorded_run(state, folder)
    for name, value in given(args).items():
        if name == "minutes":  # the plan was made once: a resume keeps its steps, crop and batch
            _check_budget(value, record)
            continue
        if name not in record and name not in ("epochs", "steps"):
            notes.append(f"{flag(name)} {value} used: the run's state does not record it")
            record[name] = value
            continue
        _check_same(name, value, recorded, record)
    names = record.get("class_names")
    if names is not None and list(names) != list(class_names):
        raise OptionError(f"the project's classes ({', '.join(class_names)}) differ from those the run "
                          f"{folder.name} was started with ({', '.join(names)}): resume with the same "
                          "classes.txt, or train a new model")
    return record, notes


def _recorded_run(state: dict, folder: Path) -> tuple[dict, list[str], Any]:
    """(recorded options, notes, the TrainConfig they make); OptionError naming the state file when
    a recorded value has the wrong type or lies outside the options' limits (a state file from
    elsewhere holds plain values, but any values: a size of "big", class names that are numbers)."""
    from segstudio.model.training.types import config_from_options
    from segstudio.model.weights.model_files import STATE_FILE

    where = f"training state {folder / STATE_FILE}"
    try:
        record, notes = _record(state, folder)
        _check_record(record)
        return record, notes, config_from_options(record)
    except (KeyError, TypeError, ValueError, OverflowError, TrainingError) as exc:
        raise OptionError(f"{where} is damaged or not segstudio's: {exc}") from None


def _check_record(record: dict) -> None:
    """ValueError for a recorded option of the wrong type, or outside the options table's limits."""
    for name, value in record.items():
        option = BY_NAME.get(name)
        if option is None or value is None or not option.defines_run:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = {bool: isinstance(value, bool), int: isinstance(value, int) and number,
                float: number, str: isinstance(value, str)}.get(option.type, True)
        if name == "class_weights":
            fits = isinstance(value, bool) or (isinstance(value, list) and all(map(_finite_number, value)))
        if not fits:
            raise ValueError(f"{name} {value!r} is not a {option.type.__name__}")
        check_limits({name: value})
    names = record.get("class_names")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ValueError(f"class_names {names!r} is not a list of names")


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _record(state: dict, folder: Path) -> tuple[dict, list[str]]:
    """The recorded options; a state from before options were recorded gives its steps and seed."""
    record = state.get("options")
    if isinstance(record, dict):
        return dict(record), []
    record = {"steps": int(state["total_steps"]), "seed": int(state.get("seed", 0))}
    try:
        from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json
        from segstudio.model.weights.checkpoints import ModelInfo
        from segstudio.model.weights.model_files import CONFIG
        config = read_json(folder / CONFIG, SMALL_JSON_LIMIT, OptionError, "model config")
        record["size"] = ModelInfo.from_dict(config).image_size
    except (OptionError, ValueError, TypeError):
        pass
    return record, [f"{folder.name} was saved before runs recorded their options: its steps ("
                    f"{record['steps']}) and seed are kept, other options are this command's"]


def _check_budget(minutes: float, record: dict) -> None:
    """OptionError unless ``--minutes`` repeats the run's recorded budget (then it changes nothing)."""
    plan = record.get("budget")
    was = plan.get("minutes") if isinstance(plan, dict) else None
    if was is None:
        length = "--steps" if record.get("steps") is not None else "--epochs"
        raise OptionError(f"--minutes {value_text(minutes)}: the run was recorded with {length} "
                          f"{record.get(length[2:])}; --resume continues it as recorded (drop --minutes)")
    if not math.isclose(float(was), float(minutes)):
        raise OptionError(f"--minutes {value_text(minutes)} differs from the run's recorded budget of "
                          f"{value_text(was)}: --resume continues the recorded plan "
                          f"({record.get('steps')} steps; drop --minutes)")


def value_text(value: float) -> str:
    return f"{float(value):g}"


def _check_same(name: str, value: Any, recorded, record: dict) -> None:
    """OptionError when a typed option differs from the run's recorded setting."""
    if name in ("epochs", "steps"):
        was = record.get(name)
        if was is None:
            other = "steps" if name == "epochs" else "epochs"
            raise OptionError(f"{flag(name)} {value}: the run was recorded with --{other} "
                              f"{record.get(other)}; --resume continues it as recorded (drop {flag(name)})")
        same = int(was) == int(value)
    elif name == "lr":
        from segstudio.model.training.recipe import default_lr

        was = default_lr(recorded)
        same = math.isclose(float(value), was, rel_tol=1e-9)
    else:
        was = getattr(recorded, name)
        same = (float(was) == float(value)) if isinstance(was, float) else was == value
    if not same:
        shown = {"augment": "off", "amp": "off", "class_weights": "on"}.get(name, value)
        recorded_text = {True: "on", False: "off"}.get(was, was) if isinstance(was, bool) else was
        raise OptionError(f"{flag(name)} {shown} differs from the run's recorded {recorded_text}: "
                          f"--resume continues the run as it was recorded (drop {flag(name)}, or "
                          "train a new model with another --out)")
