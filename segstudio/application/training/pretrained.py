"""The public checkpoints as the window lists them: which are downloaded, what they cost, their licence.

Rows come from the catalogue shipped with segstudio; "downloaded" is read from the Hugging Face
cache without any network. A download is :func:`segstudio.model.weights.hub.fetch` (resumable, verified,
into the shared cache), run by the window on a worker with progress and cancel; the licence is
shown and accepted before the first download of a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segstudio.core.batch import Progress, StopFlag
from segstudio.core.errors import SegStudioError
from segstudio.model.weights import catalogue, hub, hub_cache


@dataclass(frozen=True)
class PretrainedRow:
    """One catalogue model and where it is cached (None: not downloaded)."""

    entry: catalogue.Entry
    path: Path | None

    @property
    def downloaded(self) -> bool:
        return self.path is not None

    @property
    def trained_on(self) -> str:
        return "ImageNet" if self.entry.is_encoder else self.entry.dataset

    @property
    def size_text(self) -> str:
        return f"{self.entry.size_mb:.0f} MB" if self.entry.size_mb >= 10 else f"{self.entry.size_mb:.1f} MB"


def rows() -> list[PretrainedRow]:
    """Every catalogue model, with its cached folder when there is one (no network)."""
    return [PretrainedRow(entry, _cached(entry)) for entry in catalogue.load()]


def _cached(entry: catalogue.Entry) -> Path | None:
    """The cached folder of ``entry``; None also when its cache entry is unusable (a ref that is a
    pipe or a giant file): the Models dock lists it as not downloaded, and a download says why."""
    try:
        return hub_cache.cached_snapshot(entry.id)
    except SegStudioError:
        return None


def licence_question(entry: catalogue.Entry) -> str:
    """What the user reads and accepts before the first download of ``entry``."""
    return (f"{entry.id} (about {entry.size_mb:g} MB) is published under the {entry.licence.name}:\n"
            f"{entry.licence.url}\n\n"
            f"It is downloaded once into the Hugging Face cache ({hub_cache.cache_location()}) and then used "
            "offline. Download it and accept its licence?")


def download(entry: catalogue.Entry, on_progress: Progress | None = None,
             should_stop: StopFlag | None = None) -> Path:
    """Fetch ``entry`` into the cache (bytes as progress); returns its folder."""
    return hub.fetch(entry.id, on_progress=on_progress, should_stop=should_stop)
