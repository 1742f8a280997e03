"""Why a request of the user was refused, as the controllers answer it (no Qt).

A controller refuses what it cannot do (no project, a read-only window, nothing to do) with the
sentence the user reads; ``error`` tells a problem (the window shows an error) from advice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """A refused request: what to tell the user, and whether it is a problem or advice."""

    text: str
    error: bool = False
