"""A rename journal: replacing many files so that a crash in the middle can be finished later.

Rewriting every mask after a class edit touches many files that only make sense together (masks,
XML and ``classes.txt`` must agree). The new contents are first written to temporary files next to
their targets; then a small journal listing every (temporary, target) pair is written atomically to
``<save_dir>/.segstudio/``; then the renames happen; then the journal is deleted. A crash before the
journal exists leaves the old files (plus stray temporaries, which opening the project removes with
``core.atomic.remove_stale_temporaries`` once this journal is done); a
crash after it leaves a journal that :func:`complete_journal` (called when a project is opened)
finishes, so the project is never half old and half new.

A journal is untrusted input (a project folder may come from someone else): before anything is
renamed every entry is checked (:func:`check_entry`): the target must be a file directly in the save
folder, the temporary a file next to it named as :func:`temp_name_pattern` says. One bad entry and
nothing is renamed; the journal is kept for inspection and the opener reports why.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .atomic import atomic_write_text
from .errors import SaveError
from .paths import STATE_FOLDER, OutsideProjectError, is_regular_file, own_folder, resolve_inside
from .platform_io import replace_file
from .project_lock import held_elsewhere

JOURNAL_NAME = "rename-journal.json"
TEMP_SUFFIX = ".remap"  # temporaries are ".<target name>.<random>.remap" next to their target
_RANDOM = r"[A-Za-z0-9_]+"  # the random part (tempfile.mkstemp: 8 characters)


class JournalRefused(SaveError):
    """A journal entry points outside the project or is not one of our temporaries: nothing applied."""


def journal_path(save_dir: str | os.PathLike) -> Path:
    return Path(save_dir) / STATE_FOLDER / JOURNAL_NAME


def temp_name_pattern(target_name: str) -> re.Pattern:
    """The names a rewrite gives the temporary of ``target_name`` (see application.class_rewrite)."""
    return re.compile(rf"^\.{re.escape(target_name)}\.{_RANDOM}{re.escape(TEMP_SUFFIX)}$", re.DOTALL)


def write_journal(save_dir: str | os.PathLike, renames: list[tuple[Path, Path]]) -> Path:
    """Record the renames to perform (paths relative to ``save_dir``)."""
    save_dir = Path(save_dir)
    entries = [[_relative(temp, save_dir), _relative(target, save_dir)] for temp, target in renames]
    for temp, target in entries:
        check_entry(save_dir, temp, target)  # never record what the next open would refuse
    path = own_folder(save_dir, STATE_FOLDER, create=True) / JOURNAL_NAME
    atomic_write_text(path, json.dumps({"version": 1, "renames": entries}, indent=1))
    return path


def apply_renames(save_dir: str | os.PathLike, renames: list[tuple[Path, Path]]) -> None:
    """Rename every temporary onto its target, then delete the journal."""
    for temp, target in renames:
        if temp.exists():  # already renamed by an earlier, interrupted run otherwise
            replace_file(temp, target)
    journal_path(save_dir).unlink(missing_ok=True)


def complete_journal(save_dir: str | os.PathLike) -> int:
    """Finish the renames of a rewrite interrupted by a crash; returns how many files were renamed.

    Raises SaveError if the journal cannot be read, names a path it must not (:class:`JournalRefused`)
    or a rename fails; the journal is then kept (a later open tries again, or the user inspects it).
    """
    save_dir = Path(save_dir).resolve()
    own_folder(save_dir, STATE_FOLDER)  # never read or delete a journal through a link
    if held_elsewhere(save_dir) is not None:
        return 0  # another process has the project open: a journal or temporaries may be its own, live
    path = journal_path(save_dir)
    if not is_regular_file(path):
        if path.exists() or os.path.islink(path):
            raise JournalRefused(f"{path} is not a plain file: nothing was renamed; remove it to open the project")
        return 0
    try:
        data = json.loads(path.read_text("utf-8"))
        entries = [(str(temp), str(target)) for temp, target in data["renames"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SaveError(f"cannot read the interrupted rewrite journal {path}: {exc}") from exc
    try:
        renames = [check_entry(save_dir, temp, target) for temp, target in entries]
    except JournalRefused as exc:
        raise JournalRefused(
            f"the interrupted rewrite journal {path} was refused, nothing was renamed: {exc}. "
            "The journal is kept for inspection; delete it to open the project"
        ) from None
    pending = [(temp, target) for temp, target in renames if temp.exists()]
    try:
        apply_renames(save_dir, pending)
    except OSError as exc:
        raise SaveError(f"cannot finish the interrupted rewrite listed in {path}: {exc.strerror or exc}") from exc
    return len(pending)


def check_entry(save_dir: Path, temp: str, target: str) -> tuple[Path, Path]:
    """The (temporary, target) paths of one journal entry; :class:`JournalRefused` unless the target
    is a file directly in the save folder or in its state folder (symbolic links resolved) and the
    temporary is one of our temporaries next to it, a plain file when it exists."""
    base = Path(save_dir).resolve()
    try:
        target_path = resolve_inside(base, target)
        temp_path = resolve_inside(base, temp)
    except (OutsideProjectError, OSError, RuntimeError) as exc:
        raise JournalRefused(f"{temp!r} -> {target!r}: {exc}") from None
    # Masks, XML and classes.txt lie in the save folder; project.json in its own state folder.
    if target_path.parent not in (base, base / STATE_FOLDER):
        raise JournalRefused(f"{target!r} is not a file of the save folder {base}")
    if temp_path.parent != target_path.parent or not temp_name_pattern(target_path.name).match(temp_path.name):
        raise JournalRefused(f"{temp!r} is not a temporary segstudio wrote for {target_path.name}")
    if os.path.lexists(temp_path) and not is_regular_file(temp_path):
        raise JournalRefused(f"{temp!r} is not a plain file")
    return temp_path, target_path


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(Path(path).resolve())
