"""Review rules: a prediction in the project's classes, what "accept the prediction" writes into
a mask, and the error map of one class (no Qt, no torch).

Why here: these rules decide what lands in a user's mask, so they are plain functions on arrays,
tested without a window; the prediction layer only calls them and shows the result.
"""

from __future__ import annotations

import enum

import numpy as np

from segstudio.core import overlay
from segstudio.core.class_mapping import aliases_from_settings, class_lut
from segstudio.core.palette import IGNORE_INDEX
from segstudio.core.project import Project


class AcceptMode(enum.Enum):
    ALL = "All classes"
    UNLABELLED = "Only unlabelled pixels"
    CLASS = "Only one class"


def accepted_what(mode: AcceptMode, class_name: str) -> str:
    """What an accept copied, in the status line: the mode, and for one class its name."""
    if mode is AcceptMode.CLASS:
        return f"only the class {class_name}"
    return mode.value.lower()


def prediction_in_project(labels: np.ndarray, model_names: list[str], project_names: list[str],
                          aliases: dict[str, str] | None = None) -> np.ndarray:
    """A prediction in the model's class indices renumbered into the project's classes by the one
    rule ``core.class_mapping`` (the one ``segstudio-cli evaluate --model`` uses), with the
    project's class aliases: a model class the project does not know becomes 255, which is drawn
    as nothing and never accepted."""
    return class_lut(model_names, project_names, aliases)[labels]


ALIASES_KEY = "class_aliases"  # in the project's settings: {model class name: project class name or ""}


def project_aliases(project: Project) -> dict[str, str]:
    """The class aliases kept in ``project``'s settings."""
    return aliases_from_settings(project.settings.get(ALIASES_KEY))


def set_project_aliases(project: Project, aliases: dict[str, str]) -> None:
    """Keep ``aliases`` (only the entries that change something) in the project's settings."""
    project.settings[ALIASES_KEY] = {k: v for k, v in aliases.items() if _differs(k, v, project)}
    project.save_settings()


def _differs(model_name: str, target: str, project: Project) -> bool:
    """An alias is worth keeping when it maps somewhere else than the name itself would."""
    same = [n for n in project.classes.names if n.strip().casefold() == model_name.strip().casefold()]
    return not same or target.strip().casefold() != model_name.strip().casefold()


def accepted_label(mask: np.ndarray, prediction: np.ndarray, mode: AcceptMode, class_index: int = 1,
                   unpainted: int = 0) -> np.ndarray:
    """The mask after accepting ``prediction`` in ``mode`` (a new array; ``mask`` is unchanged).

    Ignore pixels (255) the user painted are never overwritten (in a scribble project, where 255
    means unpainted, they are what accepting fills), and a pixel predicted as a class the project
    does not know (255, see :func:`prediction_in_project`) keeps what the mask has; UNLABELLED
    writes only where the mask is still unpainted (``unpainted``: 0, or 255 for scribbles); CLASS
    only where ``class_index`` is predicted.
    """
    if mask.shape != prediction.shape:
        raise ValueError(f"prediction {prediction.shape} and mask {mask.shape} differ in size")
    writable = prediction != IGNORE_INDEX
    if unpainted != IGNORE_INDEX:
        writable &= mask != IGNORE_INDEX
    if mode is AcceptMode.UNLABELLED:
        writable &= mask == unpainted
    elif mode is AcceptMode.CLASS:
        writable &= prediction == class_index
    result = mask.copy()
    result[writable] = prediction[writable]
    return result


def class_error_map(prediction: np.ndarray, mask: np.ndarray, class_index: int | None,
                    origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Error map (``core.overlay.error_map``); with ``class_index``, only pixels where that class
    is painted or predicted (the review table's class filter). ``origin``: where the arrays lie in
    the image (a rectangle of it)."""
    rgba = overlay.error_map(prediction, mask, origin)
    if class_index is not None:
        rgba[(mask != class_index) & (prediction != class_index)] = 0
    return rgba
