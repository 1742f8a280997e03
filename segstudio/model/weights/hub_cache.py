"""The standard Hugging Face cache, read and written the way huggingface_hub lays it out.

A model repository lives in ``<HF_HUB_CACHE>/models--<owner>--<name>/``: ``blobs/<etag>`` hold the
file contents (named by their sha256 for large LFS files, by their git sha1 otherwise),
``snapshots/<commit>/<file>`` are links to those blobs, and ``refs/main`` names the commit of the
branch. Using exactly this layout means a model the user already fetched with transformers is
found with no download, and one we fetch is found by transformers.

Reading goes through huggingface_hub's own cache API (``try_to_load_from_cache``), which never
touches the network, once ``refs/main`` is known to be a small regular file. Writing (a finished
download, an imported file) only ever adds a verified blob, a link to it and a ref: nothing already
in the cache is replaced, and nothing is written through a link planted in it (the repository
folder, ``blobs``, ``snapshots/<commit>``, ``refs`` and the lock folder must be real folders:
:func:`own_folder_in_cache`). huggingface_hub is imported inside the functions, so importing this
module stays cheap.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from segstudio.core.atomic import atomic_open, atomic_write_bytes, atomic_write_text
from segstudio.core.errors import CheckpointError
from segstudio.core.paths import own_path
from segstudio.core.safe_read import read_text

CONFIG_FILE = "config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # the order we prefer them in
READ_CHUNK = 1 << 20
REF_LIMIT = 4096  # refs/<branch> holds one commit id
SHA256 = re.compile(r"[0-9a-f]{64}")
GIT_SHA1 = re.compile(r"[0-9a-f]{40}")


NO_HOME = ("no folder for the Hugging Face cache: this account has no home folder (HOME is not set); "
           "set HF_HOME to a folder to download and keep models")


def hf_cache_dir() -> Path:
    """The hub cache folder: ``HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``.

    CheckpointError (:data:`NO_HOME`) where ``~`` cannot be expanded (no home folder):
    huggingface_hub would then use a folder named ``~`` in the current one."""
    from huggingface_hub import constants
    path = os.path.expanduser(constants.HF_HUB_CACHE)  # never raises: "~..." is kept when there is no home
    if path.startswith("~"):
        raise CheckpointError(NO_HOME)
    return Path(path)


def cache_location() -> str:
    """The cache folder for messages, or why there is none."""
    try:
        return str(hf_cache_dir())
    except CheckpointError as exc:
        return str(exc)


def repo_folder(hub_id: str) -> Path:
    """``<cache>/models--owner--name``, the folder huggingface_hub keeps one repository in."""
    from .hub_internals import repo_folder_name
    return hf_cache_dir() / repo_folder_name(repo_id=hub_id, repo_type="model")


def hub_id_for_path(path: str | os.PathLike) -> str | None:
    """The hub id ``owner/name`` of a path inside a cached repository
    (``…/models--owner--name/snapshots/<commit>``), or None for any other path."""
    parts = Path(path).parts
    for part, below in zip(parts, parts[1:]):
        if part.startswith("models--") and part.count("--") >= 2 and below == "snapshots":
            return part[len("models--"):].replace("--", "/", 1)
    return None


def own_folder_in_cache(*names: str) -> Path:
    """``<cache>/<names...>``, created, each level a real folder (``core.paths.own_path``): a link
    planted at ``blobs`` or ``snapshots/<commit>`` would make a download or an import write its
    files elsewhere. The cache folder itself may be a link (caches are often moved to another disk)."""
    return own_path(hf_cache_dir(), *names, create=True)


def own_repo_folder(hub_id: str, *names: str) -> Path:
    """:func:`own_folder_in_cache` for ``models--owner--name/<names...>``."""
    from .hub_internals import repo_folder_name
    return own_folder_in_cache(repo_folder_name(repo_id=hub_id, repo_type="model"), *names)


def cached_snapshot(hub_id: str, revision: str | None = None) -> Path | None:
    """The snapshot folder holding weights for ``hub_id`` (``config.json`` beside them when the
    repository has one), found with no network; None when nothing usable is cached.

    With a ``revision`` (a branch, tag or commit) only that one counts. Otherwise the commit
    ``refs/main`` points to comes first, as huggingface_hub itself would pick it. Other cached
    commits (a pinned revision, the ``refs/pr/N`` branch transformers fetches safetensors from) are
    used next, newest first, so a model fetched any way at all is found.
    """
    from huggingface_hub import try_to_load_from_cache
    try:
        hf_cache_dir()
    except CheckpointError:  # no home folder: no cache, nothing in it
        return None
    # huggingface_hub reads refs/<branch> whole: a huge file there is refused first
    read_ref(hub_id, revision if revision is not None and not GIT_SHA1.fullmatch(revision) else "main")
    for name in WEIGHT_FILES:
        found = try_to_load_from_cache(hub_id, name, cache_dir=hf_cache_dir(), revision=revision)
        if isinstance(found, str):
            return Path(found).parent
    return _other_revision(hub_id) if revision is None else None


def _other_revision(hub_id: str) -> Path | None:
    """The newest complete snapshot of ``hub_id`` (weights among its files, none of them a dangling
    link or a pipe), read from its ``snapshots`` folder alone. Not huggingface_hub's
    ``scan_cache_dir``: it opens every ref of every cached repository, and blocks for ever on a
    pipe planted among them."""
    found = []
    try:
        folders = [f for f in (repo_folder(hub_id) / "snapshots").iterdir()
                   if GIT_SHA1.fullmatch(f.name) and f.is_dir() and not f.is_symlink()]
    except OSError:
        return None
    for folder in folders:
        try:
            files = [f for f in folder.iterdir() if not f.is_dir()]
            if {f.name for f in files} & set(WEIGHT_FILES) and all(f.is_file() for f in files):
                found.append((max(f.stat().st_mtime for f in files), folder.name, folder))
        except OSError:
            continue
    return max(found)[2] if found else None


# ----------------------------------------------------------------------------------- checksums


def file_digest(path: Path, algorithm: str, prefix: bytes = b"") -> str:
    """Hex digest of ``prefix`` + the file's bytes, read in chunks (weights can be 340 MB)."""
    digest = hashlib.new(algorithm, prefix)
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_id(path: Path, etag: str) -> tuple[str, str] | None:
    """(algorithm, digest of ``path``) in the form of ``etag``, or None when it cannot be checked.

    The hub names an LFS file by its sha256 and any other file by its git blob id (the sha1 of
    ``"blob <size>\\0"`` + content), and announces that name as the file's ETag.
    """
    if SHA256.fullmatch(etag):
        return "sha256", file_digest(path, "sha256")
    if GIT_SHA1.fullmatch(etag):
        return "git sha1", file_digest(path, "sha1", b"blob %d\0" % path.stat().st_size)
    return None


def git_blob_id(path: Path) -> str:
    """The git blob id of a small file: the name the hub gives a non-LFS file such as config.json."""
    return file_digest(path, "sha1", b"blob %d\0" % path.stat().st_size)


def check_content(path: Path, etag: str, what: str) -> None:
    """CheckpointError naming ``what`` unless ``path`` hashes to the ``etag`` the server announced."""
    found = content_id(path, etag)
    if found is not None and found[1] != etag:
        raise CheckpointError(mismatch(what, found[0], etag, found[1]))


def mismatch(what: str, algorithm: str, etag: str, digest: str) -> str:
    """The one line for a file whose content is not what the server announced."""
    return (f"{what} does not match the checksum the server announced ({algorithm} {etag[:16]}…, "
            f"the file has {digest[:16]}…); it was discarded. Try again; if this repeats, the server "
            "or mirror (HF_ENDPOINT) serves a damaged file")


# ------------------------------------------------------------------------------------- writing


def blob_path(hub_id: str, etag: str) -> Path:
    return repo_folder(hub_id) / "blobs" / etag


def lock_path(hub_id: str, etag: str) -> Path:
    """The lock huggingface_hub takes for this blob, so its downloads and ours never collide; its
    folder is created (never through a link)."""
    from .hub_internals import repo_folder_name
    return own_folder_in_cache(".locks", repo_folder_name(repo_id=hub_id, repo_type="model")) / f"{etag}.lock"


def copy_blob(source: Path, hub_id: str, etag: str, on_bytes: Callable[[int], None] | None = None
              ) -> Path:
    """Copy ``source`` into the blob named ``etag``, atomically, checking on the way that the
    bytes copied hash to ``etag`` (the file could change while we read it); a blob already there
    is kept."""
    blob = blob_path(hub_id, etag)
    if blob.is_file():
        return blob
    own_repo_folder(hub_id, "blobs")
    if SHA256.fullmatch(etag):
        digest = hashlib.sha256()
    else:
        digest = hashlib.sha1(b"blob %d\0" % source.stat().st_size)
    with atomic_open(blob) as out, open(source, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
        if digest.hexdigest() != etag:   # raised inside: the temporary goes, no blob appears
            raise CheckpointError(f"{source} changed while it was being copied into the cache; "
                                  "try again")
    return blob


def write_blob(hub_id: str, etag: str, data: bytes) -> Path:
    """The blob named ``etag`` holding ``data`` (a small file read and checked in memory), written
    atomically; one already there is kept."""
    blob = blob_path(hub_id, etag)
    if not blob.is_file():
        own_repo_folder(hub_id, "blobs")
        atomic_write_bytes(blob, data)
    return blob


def link_snapshot(hub_id: str, commit: str, filename: str, blob: Path) -> Path:
    """``snapshots/<commit>/<filename>``, made a relative link to ``blob`` (a copy where the file
    system has no links, as huggingface_hub does); an existing entry is left as it is."""
    pointer = own_repo_folder(hub_id, "snapshots", commit) / filename
    if pointer.is_file():
        return pointer
    if pointer.is_symlink():  # a dangling link: its blob was deleted, ours replaces it
        pointer.unlink()
    try:
        os.symlink(os.path.relpath(blob, pointer.parent), pointer)
    except FileExistsError:
        pass  # another process linked it meanwhile
    except (OSError, NotImplementedError):
        with atomic_open(pointer) as out, open(blob, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                out.write(chunk)
    return pointer


def set_ref(hub_id: str, commit: str, branch: str = "main", replace: bool = True) -> None:
    """Point ``refs/<branch>`` at ``commit`` (as huggingface_hub does after resolving a branch)."""
    recorded = read_ref(hub_id, branch)
    if recorded is not None and (not replace or recorded == commit):
        return
    atomic_write_text(own_repo_folder(hub_id, "refs") / branch, commit)


def read_ref(hub_id: str, branch: str = "main") -> str | None:
    """The commit ``refs/<branch>`` names, or None (no such file, or it names no commit). Read
    bounded, as a regular file only: :class:`CheckpointError` for a pipe (it would block), a device
    or a file too large to be a ref."""
    ref = repo_folder(hub_id) / "refs" / branch
    if not os.path.lexists(ref):
        return None
    commit = read_text(ref, REF_LIMIT, CheckpointError, "Hugging Face cache ref").strip()
    return commit if GIT_SHA1.fullmatch(commit) else None


def main_commit(hub_id: str) -> str | None:
    """The commit ``refs/main`` names, or None."""
    return read_ref(hub_id)
