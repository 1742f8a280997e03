"""How long the click tool's image encoder usually takes on this machine, for the status bar.

The window says "embedding photo.jpg (usually 3.2 s here)…" while the encoder runs: the median of
the last :data:`KEPT` embeddings this machine computed with this model (seconds, a whole image or
a crop alike: the encoder's input is the same square). They are kept in the user's settings, one
list per model folder, so the figure is there from the first image of the next session; never in
the project (another machine shares it and has its own speed).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

KEPT = 9  # embeddings the median is taken over: a few slow ones (a busy machine) do not move it


class EmbedTimes:
    """A running median of measured embedding times, read from and written to ``load``/``save``
    (the settings' text under a key for the model: "3.10,2.95,..."; unreadable text counts as none)."""

    def __init__(self, load: Callable[[], str], save: Callable[[str], None]) -> None:
        self._load = load
        self._save = save

    def seconds(self) -> list[float]:
        """The kept times, oldest first."""
        kept = []
        for part in self._load().split(","):
            try:
                value = float(part)
            except ValueError:
                continue
            if 0 < value < 3600:
                kept.append(value)
        return kept[-KEPT:]

    def usual(self) -> float | None:
        """The median of the kept times; None before the first."""
        kept = self.seconds()
        return statistics.median(kept) if kept else None

    def add(self, seconds: float) -> None:
        """One more measured embedding."""
        if 0 < seconds < 3600:
            kept = (self.seconds() + [seconds])[-KEPT:]
            self._save(",".join(f"{value:.3g}" for value in kept))

    def phrase(self) -> str:
        """What the status bar adds: "usually 3.2 s here", or that the first one is measured now."""
        usual = self.usual()
        if usual is None:
            return "the first one here takes longest"
        return f"usually {usual:.1f} s here" if usual >= 0.1 else "usually under 0.1 s here"
