"""File names that every platform can hold as they are: the rules of Windows and macOS, checked here.

A project made on Linux is copied to a Windows laptop or a Mac, or lives on a USB stick or a share
whose file system ignores case: ``Cat.jpg`` and ``cat.jpg`` are then one file, and so would be their
masks ``Cat.png`` and ``cat.png`` (one image's labels silently lost to the other's). Windows also
reserves device names (``CON``, ``NUL``, ``AUX.png``...) whatever the extension, and refuses a few
characters. The project lists such images with a warning naming them (``core.project``), so that the
user renames them, instead of the file system merging or refusing them later.
"""

from __future__ import annotations

import unicodedata

# Device names, reserved in every folder, with any extension ("nul.tar.gz" is NUL too), in any case.
# Windows also takes the superscript digits ¹ ² ³ after COM and LPT as device numbers.
WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"]
)
WINDOWS_FORBIDDEN = '<>:"/\\|?*'


def name_key(stem: str) -> str:
    """The key under which case-insensitive file systems store ``stem``: case folded (NTFS and
    APFS ignore case) and in one Unicode normal form (APFS takes ``é`` composed and decomposed for
    the same name). Two names with one key are one file there."""
    return unicodedata.normalize("NFC", stem).casefold()


def windows_name_problem(name: str) -> str | None:
    """Why Windows cannot hold a file named ``name``, or None when it can."""
    device = name.split(".", 1)[0].rstrip(" ")
    if device.upper() in WINDOWS_DEVICES:
        return f"{device} is a device name on Windows (CON, PRN, AUX, NUL, COM1…9, LPT1…9), whatever the extension"
    bad = next((c for c in name if c in WINDOWS_FORBIDDEN or ord(c) < 32), None)
    if bad is not None:
        return f"Windows does not allow the character {bad!r} in a file name"
    if name.endswith((" ", ".")):
        return "Windows drops a space or a dot at the end of a file name"
    return None

