"""Any SegFormer on the Hugging Face hub, added by its id from the window's Models dock.

The flow the "Add from the Hub…" dialog drives, with no Qt: :func:`look_up` turns the id the user
typed into a :class:`HubChoice` (already cached, or what the repository is, what it costs and its
licence, read from its small files: a repository that is not a SegFormer is refused here, before
any weights); :func:`needs_acceptance` says whether its licence must be accepted first (anything
not permissive, or not stated); :func:`download` fetches it into the shared cache with progress
and a stop flag, exactly as ``segstudio-cli fetch-model`` does. Both network steps run on the
window's "downloads" pool; each raises one-line :class:`SegStudioError` s for the dialog to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segstudio.core.batch import Progress, StopFlag
from segstudio.model.weights import hub, hub_cache
from segstudio.model.weights.hub_ids import HubName
from segstudio.model.weights.hub_remote import RemoteModel


@dataclass(frozen=True)
class HubChoice:
    """A hub model the user named: cached already (``cached``), or what downloading it means (``remote``)."""

    name: HubName
    cached: Path | None
    remote: RemoteModel | None

    @property
    def summary(self) -> str:
        """What the dialog shows about it, a few lines of plain text."""
        if self.cached is not None:
            return f"{self.name.text} is already in the Hugging Face cache:\n{self.cached}"
        remote = self.remote
        assert remote is not None
        size = f"{remote.size / 1e6:.1f} MB to download" if remote.size else "nothing left to download"
        return (f"{self.name.text}: {remote.what}.\n{size} into the Hugging Face cache "
                f"({hub_cache.cache_location()}), then used offline.\nLicence: {remote.licence_text}")


def look_up(text: str, on_progress: Progress | None = None, should_stop: StopFlag | None = None) -> HubChoice:
    """The :class:`HubChoice` for the id ``text`` (``owner/name`` or ``owner/name@revision``, or a
    catalogue name). A few small files are read, so there is no progress to report; a stop asked
    meanwhile is :class:`DownloadCancelled` once they are in (the answer would come too late)."""
    named = hub.hub_name_of(text)
    cached = hub_cache.cached_snapshot(named.hub_id, named.revision)
    if cached is not None:
        return HubChoice(named, cached, None)
    remote = hub.look_up(named.hub_id, named.revision)
    if should_stop is not None and should_stop():
        raise hub.DownloadCancelled(f"look-up of {named.text} stopped")
    return HubChoice(named, None, remote)


def needs_acceptance(choice: HubChoice) -> bool:
    """True when the licence must be accepted before the download: not permissive, or not stated."""
    return choice.remote is not None and not choice.remote.permissive


def download(choice: HubChoice, on_progress: Progress | None = None, should_stop: StopFlag | None = None) -> Path:
    """Fetch the model into the cache (bytes as progress; resumable); returns its folder."""
    if choice.cached is not None:
        return choice.cached
    return hub.fetch(choice.name.hub_id, revision=choice.name.revision, on_progress=on_progress,
                     should_stop=should_stop)


def is_encoder(choice: HubChoice, folder: Path) -> bool:
    """True when the model is an encoder only (a starting point for training, not a segmenter)."""
    if choice.remote is not None:
        return choice.remote.encoder
    from segstudio.core.errors import CheckpointError
    from segstudio.core.safe_read import SMALL_JSON_LIMIT, read_json
    from segstudio.model.weights.hub_remote import judge_config
    try:   # bounded, regular files only: the cache may hold anything
        config = read_json(folder / hub_cache.CONFIG_FILE, SMALL_JSON_LIMIT, CheckpointError, "model config")
        return judge_config(choice.name.hub_id, config)[1]
    except CheckpointError:
        return False
