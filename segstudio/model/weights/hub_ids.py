"""What a hub model is called, and where a MODEL name led: shared by resolving and importing.

:mod:`.hub` resolves and downloads, :mod:`.hub_import` puts a file fetched elsewhere into the cache;
both turn a name into a hub id the same way and answer with a :class:`Resolved`. Those two pieces
live here, below both, so that the hub can offer :func:`.hub_import.import_file` without the two
modules importing each other. No torch, and huggingface_hub only when a name is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segstudio.core.errors import CheckpointError

from . import catalogue


@dataclass(frozen=True)
class Resolved:
    """Where a MODEL name led: the local path to load, and how it was found.

    ``source`` is "path", "project", "cache", "download" or "import". ``hub_id`` and ``entry`` are set for
    hub models (``entry`` only for catalogue ones: its classes, evaluation recipe and licence).
    """

    path: Path
    source: str
    hub_id: str | None = None
    entry: catalogue.Entry | None = None


def hub_id_of(name: str) -> tuple[str, catalogue.Entry | None]:
    """(hub id, catalogue entry or None) for a catalogue name or a plain ``owner/name`` id."""
    entry = catalogue.find(name)
    if entry is not None:
        return entry.id, entry
    why = not_a_hub_id(name.strip())
    if why is None:
        return name.strip(), None
    raise CheckpointError(f"{name!r} is neither a catalogue model nor a hub id ({why}); "
                          "segstudio-cli fetch-model --list shows the catalogue")


def not_a_hub_id(text: str) -> str | None:
    """Why ``text`` is not a hub id ``owner/name``, or None when it is one. huggingface_hub's own
    rule (``validate_repo_id``: no ``--`` or ``..``, no name ending in ``.``, 96 characters at
    most...) decides, so that a name we accept never fails inside huggingface_hub with a traceback."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id
    if text.count("/") != 1:
        return "a hub id is owner/name"
    try:
        validate_repo_id(text)
    except HFValidationError as exc:
        return " ".join(str(exc).split())
    return None
