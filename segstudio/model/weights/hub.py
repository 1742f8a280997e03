"""Turn a MODEL name into local files: a path, the project's models, the Hugging Face cache, or a
download into that cache.

:func:`resolve` is what every command and the window call with the MODEL the user typed. It looks,
in this order, for

1. an existing file or folder with that path;
2. the project's own model ``<save_dir>/models/<name>``;
3. the model in the standard Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``), with no network:
   a catalogue name (``b0-ade``, ``mit-b2``, ``nvidia/segformer-b0-finetuned-ade-512-512``) or any
   hub id ``owner/name`` (``owner/name@revision`` for a branch, tag or commit);
4. a download into that cache, when allowed: ``config.json``, ``preprocessor_config.json`` when
   the repository has one, and ``model.safetensors`` (``pytorch_model.bin`` when it has no
   safetensors), as ``from_pretrained`` would fetch them.

Any hub id can be downloaded, as transformers' ``from_pretrained`` would, so the small files decide
first (:func:`look_up`): ``config.json`` must describe a SegFormer or MiT encoder segstudio can build
(:mod:`.hub_remote` names anything else in one line), and the licence in the model card is read so
that the caller can show it before the weights come (``on_remote``). Then the weights stream in
(:mod:`.hub_http`: resumable, checked against their sha256, cancellable), must load into the
architecture the config describes, and only then are all files linked into ``snapshots/<commit>``
and the ref written: the cache never holds a model that looks complete and is not, and a refused
repository leaves nothing at all. Offline and not cached is one :class:`NotCached` line saying how
to bring the file over by hand, which :func:`import_file` (:mod:`.hub_import`) then puts into the
cache. Names and the :class:`Resolved` answer come from :mod:`.hub_ids`, below both modules. No
torch is imported at module import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from segstudio.core.errors import CheckpointError
from segstudio.core.safe_read import SMALL_JSON_LIMIT

from . import hub_cache, hub_http, hub_remote
from .hub_cache import CONFIG_FILE
from .hub_http import DownloadCancelled, NotCached, OnProgress, OnStart, ShouldStop  # noqa: F401 (offered here)
from .hub_ids import (  # noqa: F401 (hub_id_of, HubName: the hub's names, offered here)
    HubName,
    Resolved,
    hub_id_of,
    hub_name_of,
    not_a_hub_id,
    not_a_revision,
    split_revision,
)
from .hub_import import import_file  # noqa: F401 (the hub's way in for a file fetched elsewhere)
from .hub_remote import RemoteModel

PREPROCESSOR_FILE = "preprocessor_config.json"
CARD_FILE = "README.md"
OnRemote = Callable[[RemoteModel], None]     # what the repository is and its licence, before the weights


def resolve(name: str | os.PathLike, save_dir: str | os.PathLike | None = None, *,
            download: bool = True, on_start: OnStart | None = None,
            on_progress: OnProgress | None = None, should_stop: ShouldStop | None = None,
            on_remote: OnRemote | None = None) -> Resolved:
    """The local files for the MODEL ``name`` (see the module doc for the order).

    With ``download=False`` a hub model that is not cached raises :class:`NotCached` instead of
    being fetched (the window asks first). The bare variant names ``b0``..``b5`` (random weights)
    are not resolved here: ``load_model`` builds them.
    """
    text = str(name).strip()
    if not text:
        raise CheckpointError("no model given")
    local = Path(os.path.expanduser(text))  # "~" kept as it is where there is no home folder
    if local.exists():
        return Resolved(local, "path")
    project = _project_model(text, save_dir)
    if project is not None:
        return Resolved(project, "project")
    try:
        named = hub_name_of(text)
    except CheckpointError:
        raise CheckpointError(_unknown(text, save_dir)) from None
    cached = hub_cache.cached_snapshot(named.hub_id, named.revision)
    if cached is not None:
        return Resolved(cached, "cache", named.hub_id, named.entry)
    if not download:
        size = f" ({named.entry.size_mb:g} MB)" if named.entry else ""
        command = named.entry.short if named.entry else named.text
        raise NotCached(f"{named.text}{size} is not downloaded yet: segstudio-cli fetch-model {command}",
                        named.hub_id)
    try:
        path = fetch(named.hub_id, revision=named.revision, on_start=on_start, on_progress=on_progress,
                     should_stop=should_stop, on_remote=on_remote)
    except NotCached as exc:
        if named.entry is None:   # perhaps a mistyped path: say that it is none either
            raise NotCached(_unknown(text, save_dir, str(exc), cached=False), named.hub_id) from exc
        raise
    except CheckpointError as exc:
        if named.entry is None and (hub_http.repository_missing(exc) or hub_http.unreachable(exc)):
            raise CheckpointError(_unknown(text, save_dir, str(exc))) from exc
        raise
    return Resolved(path, "download", named.hub_id, named.entry)


@dataclass(frozen=True)
class _Plan:
    """What :func:`look_up` learnt: the verdict, and the files a download fetches and links."""

    remote: RemoteModel
    config: dict
    small: dict[str, tuple[object, bytes]]   # file name -> (metadata, checked bytes), in memory
    weights: tuple[str, object]              # (file name, metadata)


def look_up(hub_id: str, revision: str | None = None) -> RemoteModel:
    """What the repository ``hub_id`` holds and what downloading it costs, read from its small
    files only (nothing is written): :class:`CheckpointError` in one line when it is not a
    SegFormer segstudio can load, :class:`NotCached` when offline."""
    return _plan(hub_id, revision, promptable=False).remote


def fetch(hub_id: str, *, revision: str | None = None, on_start: OnStart | None = None,
          on_progress: OnProgress | None = None, should_stop: ShouldStop | None = None,
          on_remote: OnRemote | None = None, promptable: bool = False) -> Path:
    """Download ``hub_id``'s files into the hub cache; returns the snapshot folder.

    ``on_remote`` hears what the repository is (and its licence) before any weights are fetched;
    ``on_start`` the bytes to download. Files already in the cache are not fetched again; an
    unfinished one is continued. ``promptable`` also accepts a Segment Anything model (for click
    to segment; ``fetch-model`` only). :class:`DownloadCancelled` when ``should_stop()`` turns
    true, :class:`NotCached` when offline, :class:`CheckpointError` for every other problem (one
    line each).
    """
    plan = _plan(hub_id, revision, promptable)
    if on_remote:
        on_remote(plan.remote)
    commit = plan.remote.commit
    weights_name, weights_meta = plan.weights
    missing_small = {n: d for n, (m, d) in plan.small.items() if not hub_cache.blob_path(hub_id, m.etag).is_file()}
    meter = hub_http.Meter(plan.remote.size, on_progress, should_stop)
    if meter.total and on_start:
        on_start(hub_id, meter.total)
    meter.add(sum(len(d) for d in missing_small.values()), hub_id, force=True)
    fresh = not hub_cache.blob_path(hub_id, weights_meta.etag).is_file()
    blob = hub_http.fetch_blob(hub_id, weights_name, weights_meta, meter)
    if not hub_remote.is_promptable(plan.config):   # SAM's loader checks its own weights when it loads them
        _check_weights_fit(hub_id, blob, plan.config, discard=fresh)
    try:
        for filename, (meta, data) in plan.small.items():
            hub_cache.link_snapshot(hub_id, commit, filename, hub_cache.write_blob(hub_id, meta.etag, data))
        hub_cache.link_snapshot(hub_id, commit, weights_name, blob)
        if revision is None or not hub_cache.GIT_SHA1.fullmatch(revision):
            hub_cache.set_ref(hub_id, commit, revision or "main")
    except OSError as exc:
        raise CheckpointError(f"cannot write {hub_id} into the Hugging Face cache {hub_cache.cache_location()}: "
                              f"{exc.strerror or exc}") from exc
    return hub_cache.repo_folder(hub_id) / "snapshots" / commit


def _plan(hub_id: str, revision: str | None, promptable: bool) -> _Plan:
    """Read the config (judged), the preprocessor config and the model card into memory, and the
    weights' metadata; nothing is written."""
    from huggingface_hub import constants
    name = f"{hub_id}@{revision}" if revision else hub_id
    if constants.HF_HUB_OFFLINE:
        raise NotCached(hub_http.offline_message(name), hub_id)
    config_meta = hub_http.metadata(hub_id, CONFIG_FILE, revision or "main")
    commit = config_meta.commit_hash
    config_bytes = hub_http.read_small(hub_id, CONFIG_FILE, config_meta, SMALL_JSON_LIMIT)
    config = hub_remote.parse_json(hub_id, CONFIG_FILE, config_bytes)
    what, encoder = hub_remote.judge_config(hub_id, config, promptable)
    weights_name, weights_meta = hub_http.weights_metadata(hub_id, commit)
    small = {CONFIG_FILE: (config_meta, config_bytes)}
    pre_meta = hub_http.optional_metadata(hub_id, PREPROCESSOR_FILE, commit)
    if pre_meta is not None:
        small[PREPROCESSOR_FILE] = (pre_meta, hub_http.read_small(hub_id, PREPROCESSOR_FILE, pre_meta,
                                                                  SMALL_JSON_LIMIT))
    card_meta = hub_http.optional_metadata(hub_id, CARD_FILE, commit)
    if card_meta is not None and (card_meta.size or 0) > hub_remote.CARD_LIMIT:
        licence, link = hub_remote.UNREAD_CARD, None
    else:
        card = hub_http.read_small(hub_id, CARD_FILE, card_meta, hub_remote.CARD_LIMIT) if card_meta else None
        licence, link = hub_remote.card_licence(card)
    size = sum(len(d) for m, d in small.values() if not hub_cache.blob_path(hub_id, m.etag).is_file())
    if not hub_cache.blob_path(hub_id, weights_meta.etag).is_file():
        size += weights_meta.size or 0
    remote = RemoteModel(hub_id, revision, commit, what, encoder, licence, link, weights_name, size)
    return _Plan(remote, config, small, (weights_name, weights_meta))


def _check_weights_fit(hub_id: str, blob: Path, config: dict, discard: bool) -> None:
    """CheckpointError unless the weights load into the architecture the config describes; weights
    just downloaded that do not are deleted (they are the repository's, but useless)."""
    from .checkpoints import check_weights
    try:
        check_weights(blob, config)
    except CheckpointError as exc:
        if discard:
            blob.unlink(missing_ok=True)
        raise CheckpointError(f"{hub_id}: its weights do not fit its config.json, so it cannot be used "
                              f"({str(exc).replace(str(blob), 'weights')}); nothing was kept") from exc


def cache_location() -> str:
    """Where models are cached, or why there is no cache (for messages)."""
    return hub_cache.cache_location()


# -------------------------------------------------------------------------------- name lookup


def _project_model(name: str, save_dir: str | os.PathLike | None) -> Path | None:
    """``<save_dir>/models/<name>`` when ``name`` is one plain folder name and it exists there."""
    if save_dir is None or name in (".", "..") or "/" in name or "\\" in name:
        return None
    path = Path(save_dir) / "models" / name
    return path if path.exists() else None


def _unknown(name: str, save_dir, not_on_hub: str | None = None, cached: bool = True) -> str:
    """One line for a MODEL that is nothing we could find: why it is not a hub id, or what the hub
    (or the lack of one) said; ``cached=False`` when that answer already says it is not cached."""
    where = f", nor a model in {Path(save_dir) / 'models'}" if save_dir is not None else ""
    if not_on_hub is not None:
        cache = ", nor in the Hugging Face cache," if cached else ","
        return f"model {name} not found: it is not a file or folder{where}{cache} and {not_on_hub}"
    hub_id, revision = split_revision(name)
    why = not_a_hub_id(hub_id) or (not_a_revision(revision) if revision is not None else None)
    hub = f", nor a valid hub id ({why})" if hub_id.count("/") == 1 else ""
    return (f"model {name} not found: it is not a file or folder{where}{hub}, nor a catalogue "
            "name (segstudio-cli fetch-model --list)")
