"""Put a weights file fetched on another machine into the Hugging Face cache (``fetch-model --from``).

An offline machine cannot download, so the user copies the file ``segstudio-cli fetch-model``
fetched elsewhere (or one downloaded from the hub's web page) and imports it. It goes where a
download would have put it: the weights as the blob named by their sha256 (the name the hub gives
them, so a later online download reuses it), ``config.json`` beside it when there is one, under the
commit ``refs/main`` already names or, when the repository was never fetched, an import commit
derived from the weights' checksum. Resolution then finds it with no network.

The file is loaded before anything is written: it must be a SegFormer checkpoint, and for a
catalogue model of the same variant and kind (an encoder, or a segmenter with as many classes).
Nothing already in the cache is replaced; the copy is atomic and checked against the checksum
read first. Loading needs torch, imported only here and only when importing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from segstudio.core.errors import CheckpointError

from . import catalogue, hub_cache
from .hub_cache import CONFIG_FILE
from .hub_ids import Resolved, hub_id_of
from .model_files import locate


def import_file(name: str, file: str | os.PathLike) -> Resolved:
    """Import ``file`` (weights, or a folder with config.json and weights) as the hub model
    ``name``; returns where it now is (``source`` "cache" when it was cached already)."""
    hub_id, entry = hub_id_of(name)
    cached = hub_cache.cached_snapshot(hub_id)
    if cached is not None:
        return Resolved(cached, "cache", hub_id, entry)
    source = Path(os.path.expanduser(file))  # "~" kept as it is where there is no home folder
    if not source.exists():
        raise CheckpointError(f"{source} does not exist")
    weights, config = locate(source)
    _check_fits(source, hub_id, entry)
    digest = hub_cache.file_digest(weights, "sha256")
    commit = hub_cache.main_commit(hub_id) or _import_commit(digest)
    try:
        blob = hub_cache.copy_blob(weights, hub_id, digest)
        hub_cache.link_snapshot(hub_id, commit, _weights_name(weights), blob)
        if config is not None:
            config_blob = hub_cache.copy_blob(config, hub_id, hub_cache.git_blob_id(config))
            hub_cache.link_snapshot(hub_id, commit, CONFIG_FILE, config_blob)
        hub_cache.set_ref(hub_id, commit, replace=False)
    except OSError as exc:
        raise CheckpointError(f"cannot write into the Hugging Face cache {hub_cache.cache_location()}: "
                              f"{exc.strerror or exc}") from exc
    return Resolved(hub_cache.repo_folder(hub_id) / "snapshots" / commit, "import", hub_id, entry)


def _import_commit(weights_sha256: str) -> str:
    """A commit-shaped name for a snapshot made by an import (the real commit is unknown offline);
    the same file always gets the same one, so importing twice changes nothing."""
    return hashlib.sha1(f"segstudio import {weights_sha256}".encode()).hexdigest()


def _weights_name(weights: Path) -> str:
    """The hub file name the weights stand for: safetensors, or a PyTorch pickle (zip or legacy)."""
    with open(weights, "rb") as handle:
        head = handle.read(4)
    return "pytorch_model.bin" if head.startswith((b"PK", b"\x80")) else "model.safetensors"


def _check_fits(source: Path, hub_id: str, entry: catalogue.Entry | None) -> None:
    """CheckpointError unless ``source`` loads as a SegFormer that is what ``hub_id`` should be."""
    from .checkpoints import FORMAT, load_model

    model, info = load_model(source)
    if info.source_format == FORMAT:
        raise CheckpointError(f"{source} is a segstudio model, not {hub_id}: use it directly as "
                              "the model (a path), no import needed")
    if entry is None:
        return
    if info.variant != entry.variant:
        raise CheckpointError(f"{source} is a SegFormer-{info.variant or 'custom'}, but {hub_id} "
                              f"is a SegFormer-{entry.variant}: not imported")
    encoder = info.source_format.endswith("-encoder")
    if entry.is_encoder and not encoder:
        raise CheckpointError(f"{source} is a segmentation checkpoint, but {hub_id} is an "
                              "ImageNet encoder: not imported")
    if not entry.is_encoder and (encoder or model.config.num_labels != len(entry.class_names)):
        found = "an encoder only" if encoder else f"{model.config.num_labels} classes"
        raise CheckpointError(f"{source} has {found}, but {hub_id} segments "
                              f"{len(entry.class_names)} {entry.dataset} classes: not imported")
