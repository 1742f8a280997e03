"""Which models the Hugging Face cache holds besides the catalogue's: what ``fetch-model --list``
shows under the catalogue, so a SegFormer or SAM fetched by its hub id (or by transformers) is
found again by name.

The cache folder is read by hand rather than with huggingface_hub's ``scan_cache_dir``, for the
reason :func:`~.hub_cache._other_revision` gives (it opens every ref of every repository, and a pipe
planted among them blocks it for ever): each ``models--owner--name`` folder that is a real folder is
looked up with :func:`~.hub_cache.cached_snapshot` (no network) and its config.json read bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segstudio.core.errors import CheckpointError, SegStudioError
from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json

from . import hub_cache

REPO_PREFIX = "models--"
MAX_REPOS = 2000  # repositories looked at: a shared cache of thousands is listed in part, quickly


@dataclass(frozen=True)
class CachedModel:
    """One model repository with usable weights in the cache."""

    hub_id: str
    what: str  # "SegFormer segmenter, 19 classes (...)", or why segstudio cannot use it
    usable: bool
    size_mb: float  # the snapshot's files (the blobs they point to)
    folder: Path


def cached_models(skip: set[str] | None = None) -> list[CachedModel]:
    """Every cached model repository with weights, by hub id (those in ``skip`` left out)."""
    try:
        root = hub_cache.hf_cache_dir()
        folders = sorted(f for f in root.iterdir() if f.name.startswith(REPO_PREFIX))[:MAX_REPOS]
    except (OSError, SegStudioError):
        return []
    found = []
    for folder in folders:
        hub_id = folder.name[len(REPO_PREFIX):].replace("--", "/", 1)
        if skip and hub_id in skip or folder.is_symlink() or not folder.is_dir():
            continue
        model = _describe(hub_id)
        if model is not None:
            found.append(model)
    return found


def _describe(hub_id: str) -> CachedModel | None:
    from .hub_remote import judge_config

    try:
        snapshot = hub_cache.cached_snapshot(hub_id)
    except (OSError, SegStudioError):
        return None
    if snapshot is None:
        return None
    config = snapshot / hub_cache.CONFIG_FILE
    try:
        what, usable = judge_config(hub_id, read_json(config, SMALL_JSON_LIMIT, CheckpointError, "model config"),
                                   promptable=True)[0], True
    except (OSError, SegStudioError) as exc:
        what, usable = (str(exc) if config.exists() else "no config.json"), False
    return CachedModel(hub_id, what, usable, _size_mb(snapshot), snapshot)


def _size_mb(snapshot: Path) -> float:
    total = 0
    for item in snapshot.iterdir():
        try:
            total += item.stat().st_size if item.is_file() else 0
        except OSError:
            continue
    return total / 1e6
