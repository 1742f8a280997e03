"""What a hub model is called, and where a MODEL name led: shared by resolving and importing.

A hub model is a catalogue name or any hub id ``owner/name``, optionally pinned to a revision with
``owner/name@revision`` (a branch or tag name, or a 40-digit commit), as the hub's web pages write it.

:mod:`.hub` resolves and downloads, :mod:`.hub_import` puts a file fetched elsewhere into the cache;
both turn a name into a hub id the same way and answer with a :class:`Resolved`. Those two pieces
live here, below both, so that the hub can offer :func:`.hub_import.import_file` without the two
modules importing each other. No torch, and huggingface_hub only when a name is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from segstudio.core.errors import CheckpointError

from . import catalogue

COMMIT = re.compile(r"[0-9a-f]{40}")
# A revision becomes a file name (refs/<revision>): one plain name, never "..", no separator.
REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


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


@dataclass(frozen=True)
class HubName:
    """A hub model as the user named it: its id, the revision asked for (None: the main branch),
    and its catalogue entry (None outside the catalogue)."""

    hub_id: str
    revision: str | None = None
    entry: catalogue.Entry | None = None

    @property
    def text(self) -> str:
        """``owner/name`` or ``owner/name@revision``, for messages and commands to type."""
        return f"{self.hub_id}@{self.revision}" if self.revision else self.hub_id


def hub_name_of(name: str) -> HubName:
    """The :class:`HubName` of a catalogue name or ``owner/name[@revision]``; CheckpointError (one
    line) for anything else."""
    text = str(name).strip()
    entry = catalogue.find(text)
    if entry is not None:
        return HubName(entry.id, None, entry)
    hub_id, revision = split_revision(text)
    why = not_a_hub_id(hub_id) or (not_a_revision(revision) if revision is not None else None)
    if why is not None:
        raise CheckpointError(f"{text!r} is neither a catalogue model nor a hub id ({why}); "
                              "segstudio-cli fetch-model --list shows the catalogue")
    return HubName(hub_id, revision, catalogue.find(hub_id) if revision else None)


def split_revision(text: str) -> tuple[str, str | None]:
    """(``owner/name``, revision or None) of ``owner/name@revision``."""
    hub_id, at, revision = text.partition("@")
    return (hub_id, revision) if at else (text, None)


def not_a_revision(revision: str) -> str | None:
    """Why ``revision`` cannot be used, or None: a branch or tag name, or a commit id."""
    if COMMIT.fullmatch(revision) or (REVISION.fullmatch(revision) and ".." not in revision):
        return None
    return (f"revision {revision[:60]!r} is not a branch, tag or commit name segstudio accepts "
            "(letters, digits, '.', '_', '-'; or a 40-digit commit)")


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
    from .hub_internals import HFValidationError, validate_repo_id
    if text.count("/") != 1:
        return "a hub id is owner/name"
    try:
        validate_repo_id(text)
    except HFValidationError as exc:
        return " ".join(str(exc).split())
    return None
