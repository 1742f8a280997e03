"""Which image comes next: the rules behind A/D and the prefetch of the neighbours.

Kept apart from the window because the order the user sees is not the file order: the file list can
be filtered (only unlabelled images...) and sorted (by the model's uncertainty), and "next" must
follow what is on screen, while the loader prefetches by file order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from segstudio.core.budgets import PREFETCH_BYTES


def neighbours(index: int, count: int, image_bytes: int = 0, budget: int = PREFETCH_BYTES) -> list[int]:
    """The images kept loaded beside ``index`` in a project of ``count``: the next one, then the one
    before, as many as fit in ``budget`` bytes at ``image_bytes`` each (0: unknown, both)."""
    near = [i for i in (index + 1, index - 1) if 0 <= i < count]
    return near if image_bytes <= 0 else near[: budget // image_bytes]


def is_valid(index: int, count: int) -> bool:
    """True when ``index`` names an image of a project of ``count`` images."""
    return 0 <= index < count


def step(displayed: Sequence[int], current: int, direction: int, skip: Collection[int] = ()) -> int | None:
    """The image after (``direction`` > 0) or before ``current`` in the list as displayed, passing
    over those in ``skip`` (images another window edits now).

    ``displayed`` holds the entry indices of the visible rows, top to bottom. When ``current`` is not
    among them (it was just filtered out, or nothing is open) the nearest visible entry by file order
    in that direction is taken, so A/D never jump back to the top. None: there is no such image.
    """
    if current in displayed:
        rows = list(displayed)
        position = rows.index(current)
        ahead = rows[position + 1:] if direction > 0 else rows[:position][::-1]
        return next((i for i in ahead if i not in skip), None)
    displayed = [i for i in displayed if i not in skip]
    if direction > 0:
        after = [i for i in displayed if i > current]
        return min(after) if after else None
    before = [i for i in displayed if i < current]
    return max(before) if before else None
