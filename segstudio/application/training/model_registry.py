"""The project's trained models and its active model, read from the files (no Qt, no torch).

A trained model is a folder ``<save_dir>/models/<name>/`` with ``config.json`` (written by
``segstudio.model.weights.checkpoints.save_model``) and ``history.json`` (the trainer's per-epoch log).
The active model is stored in ``Project.settings["active_model"]``: ``models/<name>`` relative to
the save folder for the project's own models (so the folder can move), an absolute path for a
public checkpoint registered from elsewhere (nothing is copied).
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from segstudio.core.errors import SegStudioError
from segstudio.core.paths import MODELS_FOLDER, OutsideProjectError, is_link, own_folder
from segstudio.core.project import Project
from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json
from segstudio.model.training.history import best_miou, read_history  # noqa: F401 (the one reader; windows import it here)
from segstudio.model.weights.hub_cache import hub_id_for_path
from segstudio.model.weights.model_files import CONFIG, weights_file

ACTIVE_KEY = "active_model"


@dataclass
class ModelRecord:
    """What the models list shows for one model."""

    name: str
    path: Path  # the model folder, or a checkpoint file
    variant: str = ""
    modified: float = 0.0  # mtime of the weights, seconds since the epoch
    best_miou: float = math.nan
    class_names: list[str] = field(default_factory=list)
    external: bool = False  # a public checkpoint outside the project


def _read_json(path: Path) -> dict | None:
    """A model's config.json, or None when absent or unusable (bounded, regular files only: a pipe
    in a received project's model folder would freeze the Models dock)."""
    if not os.path.lexists(path):
        return None
    try:
        return read_json(path, SMALL_JSON_LIMIT, SegStudioError, "model config")
    except SegStudioError:
        return None


def display_name(path: Path) -> str:
    """How a model is called in lists: a cached hub model by its id (not its commit folder), any
    other by its folder or file name."""
    path = Path(path)
    return hub_id_for_path(path) or (path.name if path.is_dir() else path.stem)


def record_for(path: Path, external: bool = False) -> ModelRecord | None:
    """Describe one model folder (None when it holds no weights) or a checkpoint file."""
    path = Path(path)
    weights = weights_file(path)
    if weights is None:
        return None
    config = _read_json(path / CONFIG) if path.is_dir() else None
    if config is None and path.is_file():
        config = _read_json(path.parent / CONFIG)
    config = config or {}
    history = read_history(path) if path.is_dir() else None
    names = config.get("class_names") or (history or {}).get("class_names") or []
    names = names if isinstance(names, list) else []  # a string would list one class per letter
    return ModelRecord(display_name(path), path, str(config.get("variant") or ""),
                       weights.stat().st_mtime, best_miou(history), [str(n) for n in names], external)


def list_models(save_dir: str | os.PathLike) -> list[ModelRecord]:
    """The trained models of a project, newest first."""
    root = Path(save_dir) / MODELS_FOLDER
    records = [record_for(folder) for folder in sorted(root.iterdir())] if root.is_dir() else []
    return sorted((r for r in records if r is not None), key=lambda r: r.modified, reverse=True)


def active_model_path(project: Project | None) -> Path | None:
    """The active model's folder or file, or None (unset, or deleted since)."""
    if project is None:
        return None
    value = project.settings.get(ACTIVE_KEY)
    if not isinstance(value, str) or not value:
        return None
    if "\x00" in value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = Path(project.save_dir) / path
    try:  # a received project.json may name anything: a path too long to stat is no model either
        return path if weights_file(path) is not None else None
    except (OSError, ValueError):
        return None


def set_active_model(project: Project, path: Path | None) -> None:
    """Remember ``path`` as the project's active model (None clears it) in project.json."""
    value = ""
    if path is not None:
        path = Path(path).resolve()
        try:
            value = path.relative_to(Path(project.save_dir).resolve()).as_posix()
        except ValueError:
            value = str(path)
    project.settings[ACTIVE_KEY] = value
    project.save_settings()


def delete_model(project: Project, record: ModelRecord) -> None:
    """Delete a project model folder (an external checkpoint is only unregistered, never deleted).

    Only a real folder directly in the project's real ``models`` folder is removed: a received
    project's ``models`` (or model folder) may be a link to somewhere else, which is refused
    (:class:`SaveError`) before anything changes."""
    folder = Path(record.path)
    if not record.external and folder.is_dir():
        models = own_folder(project.save_dir, MODELS_FOLDER)
        if is_link(folder) or folder.parent.resolve() != models:
            raise OutsideProjectError(f"{folder} is not a model folder of {models}; it was not deleted")
    if active_model_path(project) == record.path:
        set_active_model(project, None)
    if not record.external and folder.is_dir():
        shutil.rmtree(folder)


def replaces_active(new: ModelRecord | None, active: ModelRecord | None) -> tuple[bool, str]:
    """Whether a just-trained model becomes the active one, and why not when it does not.

    A new model replaces the active one unless both were validated and the new one is worse: then
    the user chooses (Models dock), since a silently worse active model spoils every prediction.
    """
    if new is None:
        return False, "the run saved no model"
    if active is None or math.isnan(active.best_miou) or math.isnan(new.best_miou):
        return True, ""
    if new.best_miou >= active.best_miou:
        return True, ""
    return False, (f"{new.name} (best mIoU {new.best_miou:.3f}) is worse than the active {active.name} "
                   f"({active.best_miou:.3f}): the active model stays; Use in the Models dock switches")
