"""The hub's HTTP side: file metadata, readable errors, and resumable, verified, cancellable transfers.

:mod:`.hub` decides what to fetch; this module talks to the server. Large files (weights) stream
into ``blobs/<etag>.incomplete`` (huggingface_hub's own name for an unfinished blob), which survives
a cut connection, a cancel or a crash; the next attempt asks for the rest only (HTTP Range). The
finished file must hash to the sha256 (git sha1 for small files) the server announced, or it is
discarded with a message naming it; only then is it renamed into ``blobs/``. Small files (config,
preprocessor config, model card) are read into memory, bounded in size and checked the same way,
so a repository refused on their evidence leaves nothing behind. We stream the bytes ourselves
rather than call ``hf_hub_download`` because that function deletes an unfinished file instead of
resuming it, checks sizes but not checksums, and reports progress in 10 MB steps (too coarse to
cancel promptly). Everything else is huggingface_hub's: the endpoint (``HF_ENDPOINT``), the token
(``HF_TOKEN`` or ``hf auth login``), offline mode, proxies, the metadata request and the HTTP client
(its internals through :mod:`.hub_internals` only).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from segstudio.core.atomic import open_in_place
from segstudio.core.errors import CheckpointError, SegStudioError
from segstudio.core.platform_io import replace_file
from segstudio.core.safe_read import check_regular_file

from . import hub_cache
from .hub_cache import WEIGHT_FILES

REPORT_STEP = 1 << 18      # progress is reported, and cancel checked, every 256 KiB
ATTEMPTS = 3               # connection cuts survived within one call before giving up (bytes are kept)
SAFE_ETAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")   # sha256, git sha1, or a mirror's own

OnStart = Callable[[str, int], None]         # (hub id, bytes to download): show the licence here
OnProgress = Callable[[int, int], None]      # (bytes done, bytes in all)
ShouldStop = Callable[[], bool]


class NotCached(CheckpointError):
    """A hub model is not in the cache and may not be downloaded now (offline, or not allowed)."""

    def __init__(self, message: str, hub_id: str) -> None:
        super().__init__(message)
        self.hub_id = hub_id


class DownloadCancelled(SegStudioError):
    """The user stopped a download; what was fetched is kept and the next attempt continues it."""


def offline_message(hub_id: str) -> str:
    return (f"{hub_id} is not in the Hugging Face cache ({hub_cache.cache_location()}) and downloads "
            f"are off (HF_HUB_OFFLINE): run 'segstudio-cli fetch-model {hub_id}' on a connected "
            "machine, copy the weights file it names to this one, then run "
            f"'segstudio-cli fetch-model {hub_id} --from FILE'")


# ---------------------------------------------------------------------------- server metadata


def metadata(hub_id: str, filename: str, revision: str):
    """huggingface_hub's HEAD answer (etag, size, commit) for one file, errors made readable."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    try:
        meta = get_hf_file_metadata(hf_hub_url(hub_id, filename, revision=revision))
    except Exception as exc:
        raise readable(exc, hub_id, filename) from exc
    if not meta.commit_hash or not meta.etag:
        raise CheckpointError(f"{endpoint()} did not answer like a Hugging Face hub for {hub_id} "
                              "(no commit or ETag header); check HF_ENDPOINT")
    if not hub_cache.GIT_SHA1.fullmatch(meta.commit_hash) or not SAFE_ETAG.fullmatch(meta.etag):
        # Both become names in the cache: anything else could point outside it ("../").
        raise CheckpointError(f"{endpoint()} announced an unusable commit {meta.commit_hash[:50]!r} "
                              f"or ETag {meta.etag[:70]!r} for {hub_id}/{filename}; check HF_ENDPOINT")
    return meta


def weights_metadata(hub_id: str, commit: str):
    """(file name, metadata) of the weights at ``commit``: safetensors first, else the pickle."""
    from huggingface_hub.errors import EntryNotFoundError
    for filename in WEIGHT_FILES:
        try:
            return filename, metadata(hub_id, filename, commit)
        except CheckpointError as exc:
            if not isinstance(exc.__cause__, EntryNotFoundError):
                raise
    raise CheckpointError(f"{hub_id} has neither {' nor '.join(WEIGHT_FILES)}: not a model "
                          "segstudio can load")


def optional_metadata(hub_id: str, filename: str, commit: str):
    """:func:`metadata`, or None when the repository has no such file."""
    from huggingface_hub.errors import EntryNotFoundError
    try:
        return metadata(hub_id, filename, commit)
    except CheckpointError as exc:
        if isinstance(exc.__cause__, EntryNotFoundError):
            return None
        raise


def read_small(hub_id: str, filename: str, meta, limit: int) -> bytes:
    """The bytes of a small file (a config, a model card), read into memory: at most ``limit`` of
    them, and checked against the checksum the server announced; one line for anything else."""
    from huggingface_hub import constants, hf_hub_url

    from .hub_internals import build_hf_headers, get_session, hf_raise_for_status
    if meta.size is not None and meta.size > limit:
        raise CheckpointError(f"{hub_id}: its {filename} is {meta.size / 1e6:.1f} MB, more than such a file "
                              f"can sensibly be ({limit / 1e6:g} MB): not a model segstudio can load")
    url = hf_hub_url(hub_id, filename, revision=meta.commit_hash)
    error: Exception | None = None
    for attempt in range(ATTEMPTS):
        data = bytearray()
        try:
            with get_session().stream("GET", url, headers=build_hf_headers(),
                                      timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT) as response:
                hf_raise_for_status(response)
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise CheckpointError(f"{hub_id}: the server sent more than {limit / 1e6:g} MB for "
                                              f"{filename}: not a model segstudio can load")
            break
        except SegStudioError:
            raise
        except Exception as exc:
            if not _transient(exc):
                raise readable(exc, hub_id, filename) from exc
            error = exc
            if attempt + 1 < ATTEMPTS:
                time.sleep(0.5 * (attempt + 1))
    else:
        raise CheckpointError(f"download of {hub_id}/{filename} failed: {first_line(error) if error else '?'}")
    check_bytes(bytes(data), meta.etag, f"{hub_id}: {filename}")
    return bytes(data)


def check_bytes(data: bytes, etag: str, what: str) -> None:
    """:func:`hub_cache.check_content` for bytes held in memory."""
    if hub_cache.SHA256.fullmatch(etag):
        algorithm, digest = "sha256", hashlib.sha256(data).hexdigest()
    elif hub_cache.GIT_SHA1.fullmatch(etag):
        algorithm, digest = "git sha1", hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    else:
        return
    if digest != etag:
        raise CheckpointError(hub_cache.mismatch(what, algorithm, etag, digest))


def readable(exc: Exception, hub_id: str, filename: str) -> SegStudioError:
    """One line for what huggingface_hub or the network raised."""
    from huggingface_hub import errors
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return NotCached(offline_message(hub_id), hub_id)
    if isinstance(exc, errors.GatedRepoError):
        return CheckpointError(f"{hub_id} is gated: accept its conditions on the hub, then log in "
                               "(hf auth login, or set HF_TOKEN)")
    if isinstance(exc, errors.RevisionNotFoundError):
        return CheckpointError(f"{hub_id} on {endpoint()} has no such revision (branch, tag or commit)")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return CheckpointError(f"{hub_id} was not found on {endpoint()} (or it is private and no "
                               "valid token is set: hf auth login, or HF_TOKEN)")
    if isinstance(exc, errors.EntryNotFoundError):
        return CheckpointError(f"{hub_id} on {endpoint()} has no {filename}")
    if isinstance(exc, errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return CheckpointError(f"{endpoint()} answered HTTP {status} for {hub_id}/{filename}: "
                               f"{first_line(exc)[:200]}")
    if isinstance(exc, _transport_errors() + (OSError,)):
        return CheckpointError(f"cannot reach {endpoint()} to download {hub_id} ({first_line(exc)}); "
                               f"offline, run 'segstudio-cli fetch-model {hub_id}' on a connected "
                               f"machine and then 'segstudio-cli fetch-model {hub_id} --from FILE'")
    return exc if isinstance(exc, SegStudioError) else CheckpointError(
        f"download of {hub_id}/{filename} failed: {type(exc).__name__}: {exc}")


def repository_missing(exc: BaseException) -> bool:
    """True when ``exc`` (from :func:`metadata`) says the hub has no such repository (or hides it)."""
    from huggingface_hub import errors
    cause = exc.__cause__
    return isinstance(cause, errors.RepositoryNotFoundError) and not isinstance(cause, errors.GatedRepoError)


def unreachable(exc: BaseException) -> bool:
    """True when ``exc`` (from :func:`metadata`) says the hub could not be reached at all."""
    return isinstance(exc.__cause__, _transport_errors() + (OSError,))


def first_line(exc: BaseException) -> str:
    """huggingface_hub's messages run over several lines; the first says what happened."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def endpoint() -> str:
    from huggingface_hub import constants
    return constants.ENDPOINT


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The network errors of the HTTP library huggingface_hub uses (httpx in 1.x, httpx2 in 2.x)."""
    from .hub_internals import get_session
    library = sys.modules[type(get_session()).__module__.split(".")[0]]
    return (library.TransportError,)


# ---------------------------------------------------------------------------------- transfer


class Meter:
    """Counts the bytes of a whole download, reports them every :data:`REPORT_STEP` bytes (and
    at the end of each file), and asks whether to stop each time it reports."""

    def __init__(self, total: int, on_progress: OnProgress | None, should_stop: ShouldStop | None):
        self.total, self.done, self.reported = total, 0, -1
        self.on_progress, self.should_stop = on_progress, should_stop

    def add(self, count: int, hub_id: str, force: bool = False) -> None:
        self.done += count
        if not force and abs(self.done - self.reported) < REPORT_STEP:
            return
        self.reported = self.done
        if self.on_progress:
            self.on_progress(self.done, max(self.total, self.done))
        if self.should_stop and self.should_stop():
            raise DownloadCancelled(f"download of {hub_id} stopped; the {self.done / 1e6:.1f} MB "
                                    "fetched are kept and the next download continues from there")


def fetch_blob(hub_id: str, filename: str, meta, meter: Meter) -> Path:
    """The verified blob for one file, downloaded (or continued) under huggingface_hub's lock."""
    from .hub_internals import WeakFileLock
    blob = hub_cache.blob_path(hub_id, meta.etag)
    if blob.is_file():
        return blob
    part = blob.with_name(blob.name + ".incomplete")
    try:
        hub_cache.own_repo_folder(hub_id, "blobs")
        lock = hub_cache.lock_path(hub_id, meta.etag)
        if os.path.islink(lock):  # filelock would open (and truncate) what it points to
            raise CheckpointError(f"{lock} is a symbolic link, not a lock file: remove it")
        with WeakFileLock(lock):
            if not blob.is_file():   # another process may have finished it while we waited
                _download_part(hub_id, filename, meta, part, meter)
                _check_or_discard(part, meta.etag, f"{hub_id}: {filename}")
                replace_file(part, blob)
    except OSError as exc:
        raise CheckpointError(f"cannot write {filename} of {hub_id} into the Hugging Face cache "
                              f"{hub_cache.cache_location()}: {exc.strerror or exc}") from exc
    return blob


def _check_or_discard(part: Path, etag: str, what: str) -> None:
    """A file that fails its checksum is deleted: continuing it could never make it right."""
    try:
        hub_cache.check_content(part, etag, what)
    except CheckpointError:
        part.unlink(missing_ok=True)
        raise


def _download_part(hub_id: str, filename: str, meta, part: Path, meter: Meter) -> None:
    """Bring ``part`` to the announced size, resuming after cuts; raise after :data:`ATTEMPTS`."""
    from huggingface_hub import hf_hub_url
    url = hf_hub_url(hub_id, filename, revision=meta.commit_hash)
    have = _partial_size(part)
    if meta.size is not None and have > meta.size:   # not ours to continue: start again
        part.unlink()
        have = 0
    meter.add(have, hub_id, force=True)
    error: Exception | None = None
    for attempt in range(ATTEMPTS):
        if meta.size is not None and have == meta.size:
            return
        try:
            have = _stream(url, part, have, meter, hub_id)
            if meta.size is None:
                return
            error = None
        except SegStudioError:
            raise
        except Exception as exc:
            if _local_io(exc):
                raise          # disk full, read-only cache: fetch_blob says so
            if not _transient(exc):
                raise readable(exc, hub_id, filename) from exc
            error = exc
            have = _partial_size(part)
            if attempt + 1 < ATTEMPTS:
                time.sleep(0.5 * (attempt + 1))
    if meta.size is not None and have == meta.size:
        return
    raise CheckpointError(f"download of {hub_id}/{filename} was interrupted "
                          f"({have / 1e6:.1f} of {(meta.size or 0) / 1e6:.1f} MB, kept): "
                          f"{first_line(error) if error else 'the server sent less than it announced'}"
                          "; run it again to continue")


def _partial_size(part: Path) -> int:
    """The bytes an unfinished download holds (0 when there is none). Only a regular file of its
    own is continued: a symbolic link planted at ``<etag>.incomplete`` would have the download
    appended to the file it points to, and a pipe would block; both are one line instead."""
    if not os.path.lexists(part):
        return 0
    return check_regular_file(part, CheckpointError, "unfinished download", follow_symlinks=False).st_size


def _transient(exc: Exception) -> bool:
    """A cut connection, a timeout or a busy server (429, 5xx): worth another attempt."""
    from huggingface_hub.errors import HfHubHTTPError
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return status == 429 or status >= 500
    return isinstance(exc, _transport_errors())


def _local_io(exc: Exception) -> bool:
    """An error of our own file system: the HTTP client wraps socket errors in its own types,
    so a plain OSError here comes from writing the file."""
    from huggingface_hub.errors import HfHubHTTPError
    return isinstance(exc, OSError) and not isinstance(exc, (HfHubHTTPError, ConnectionError))


def _stream(url: str, part: Path, have: int, meter: Meter, hub_id: str) -> int:
    """GET the rest of ``url`` from byte ``have`` into ``part``; returns the size reached.

    The hub's client follows the redirect to the CDN and drops the token when it leaves the
    hub's host. A server that ignores the Range (answers 200) restarts the file from zero.
    """
    from huggingface_hub import constants

    from .hub_internals import build_hf_headers, get_session, hf_raise_for_status
    headers = build_hf_headers()
    headers["Accept-Encoding"] = "identity"   # sizes and ranges are of the file itself
    if have:
        headers["Range"] = f"bytes={have}-"
    with get_session().stream("GET", url, headers=headers,
                              timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT) as response:
        hf_raise_for_status(response)
        resumed = have > 0 and response.status_code == 206
        if have and not resumed:
            meter.add(-have, hub_id)
            have = 0
        with open_in_place(part, append=resumed) as out:
            for chunk in response.iter_bytes():   # as received: a cut loses nothing read
                out.write(chunk)
                have += len(chunk)
                meter.add(len(chunk), hub_id)
            out.flush()
            os.fsync(out.fileno())
    meter.add(0, hub_id, force=True)
    return have
