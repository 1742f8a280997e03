"""The one rule that maps a model's classes onto a project's classes (no Qt, no torch).

A model numbers its classes as it was trained; the project may have reordered, added or deleted
classes since, or the model may come from elsewhere. The window (prediction overlay, accept,
review tables) and ``segstudio-cli evaluate --model`` must read a prediction the same way, or they
report different numbers for the same model. The rule:

* class 0 is the background on both sides, whatever its spelling;
* every other model class goes to the project class of the same name (case and surrounding
  spaces do not matter);
* a model class the project does not know goes to 255 (ignore): it is no claim about any project
  class, so it is never drawn, never accepted into a mask, and scored as a miss of the true class
  (``core.metrics``), not as background;
* when no class but the background matches and both lists are as long (a checkpoint with generic
  names such as ``class_1``), classes are compared by index instead, and a warning says so.

A project can add **aliases** (kept in its settings, edited in the window): a model class name
that should count as a project class of another name (ADE20K's "building" as the project's
"house"), or as no class at all (an empty target).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .palette import IGNORE_INDEX


@dataclass
class ClassMapping:
    """(256,) uint8 ``lut`` from model class index to project class index, and the warning lines
    (one per kind of mismatch) a user should read."""

    lut: np.ndarray
    warnings: list[str] = field(default_factory=list)


def _key(name: object) -> str:
    return str(name).strip().casefold()


def map_model_classes(model_names: Sequence[str], project_names: Sequence[str],
                      aliases: Mapping[str, str] | None = None) -> ClassMapping:
    """The mapping of ``model_names`` onto ``project_names`` by the rule of this module;
    ``aliases`` maps a model class name to the project class name it stands for ("" for none)."""
    renamed = {_key(k): _key(v) if str(v).strip() else "\0none" for k, v in (aliases or {}).items()}
    model_keys = [renamed.get(_key(n), _key(n)) for n in model_names[1:]]
    project_keys = [_key(n) for n in project_names[1:]]
    only_model = [str(n) for n, k in zip(model_names[1:], model_keys) if k not in project_keys]
    only_project = [str(n) for n, k in zip(project_names[1:], project_keys) if k not in model_keys]
    if only_model and len(only_model) == len(model_keys) and len(model_names) == len(project_names):
        return ClassMapping(np.arange(256, dtype=np.uint8), [
            f"no class name of the model ({', '.join(map(str, model_names[1:]))}) is in the project's "
            f"classes: compared by index ({len(project_names)} classes each)"])
    by_name: dict[str, int] = {}
    for index, name in enumerate(project_names):
        if index < IGNORE_INDEX:
            by_name.setdefault(_key(name), index)
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    lut[0] = 0
    for index, key in enumerate(model_keys[: IGNORE_INDEX - 1], start=1):
        lut[index] = by_name.get(key, IGNORE_INDEX)
    warnings = []
    if only_model:
        warnings.append(f"model class(es) {', '.join(only_model)} not in the project's classes: "
                        "their pixels count as no class (ignore), a miss of the true class")
    if only_project:
        warnings.append(f"project class(es) {', '.join(only_project)} unknown to the model: never predicted")
    return ClassMapping(lut, warnings)


def class_lut(model_names: Sequence[str], project_names: Sequence[str],
              aliases: Mapping[str, str] | None = None) -> np.ndarray:
    """Just the table of :func:`map_model_classes`."""
    return map_model_classes(model_names, project_names, aliases).lut


def aliases_from_settings(value: object) -> dict[str, str]:
    """The aliases a project's settings hold (``class_aliases``), keeping only well-formed entries:
    a hand-edited or hostile settings file gives fewer aliases, never an error."""
    if not isinstance(value, dict):
        return {}
    return {str(k)[:200]: str(v)[:200] for k, v in list(value.items())[:1000]
            if isinstance(k, str) and isinstance(v, str)}
