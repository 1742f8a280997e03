"""Words the messages of every layer share: counts ("1 validation image", "2 validation images";
not "1 validation images", nor the "image(s)" of a form) and why a folder cannot be read ("does not
exist" when it is missing, not "no mask matches" found later). One rule each."""

from __future__ import annotations

import os


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, the noun plural unless the number is one (``plural``: an irregular
    plural; default ``noun + "s"``; the noun may be several words, the last one agrees)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def not_a_folder(folder: str | os.PathLike) -> str:
    """Why ``folder`` cannot be read as one: it does not exist, or it is something else (a file)."""
    return f"folder {folder} does not exist" if not os.path.lexists(folder) else f"not a folder: {folder}"
