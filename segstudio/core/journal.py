"""A rename journal: replacing many files so that a crash in the middle can be finished later.

Rewriting every mask after a class edit touches many files that only make sense together (masks,
XML and ``classes.txt`` must agree). The new contents are first written to temporary files next to
their targets; then a small journal listing every (temporary, target) pair is written atomically to
``<save_dir>/.segstudio/``; then the renames happen; then the journal is deleted. A crash before the
journal exists leaves the old files (plus stray temporaries, which opening the project removes with
``core.atomic.remove_stale_temporaries`` once this journal is done); a
crash after it leaves a journal that :func:`complete_journal` (called when a project is opened)
finishes, so the project is never half old and half new.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .atomic import atomic_write_text
from .errors import SaveError

STATE_FOLDER = ".segstudio"
JOURNAL_NAME = "rename-journal.json"
TEMP_SUFFIX = ".remap"  # temporaries are ".<target name>.<random>.remap" next to their target


def journal_path(save_dir: str | os.PathLike) -> Path:
    return Path(save_dir) / STATE_FOLDER / JOURNAL_NAME


def write_journal(save_dir: str | os.PathLike, renames: list[tuple[Path, Path]]) -> Path:
    """Record the renames to perform (paths relative to ``save_dir`` where possible)."""
    save_dir = Path(save_dir)
    path = journal_path(save_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [[_relative(temp, save_dir), _relative(target, save_dir)] for temp, target in renames]
    atomic_write_text(path, json.dumps({"version": 1, "renames": entries}, indent=1))
    return path


def apply_renames(save_dir: str | os.PathLike, renames: list[tuple[Path, Path]]) -> None:
    """Rename every temporary onto its target, then delete the journal."""
    for temp, target in renames:
        if temp.exists():  # already renamed by an earlier, interrupted run otherwise
            os.replace(temp, target)
    journal_path(save_dir).unlink(missing_ok=True)


def complete_journal(save_dir: str | os.PathLike) -> int:
    """Finish the renames of a rewrite interrupted by a crash; returns how many files were renamed.

    Raises SaveError if the journal cannot be read or a rename fails (the journal is then kept, so a
    later open tries again).
    """
    save_dir = Path(save_dir)
    path = journal_path(save_dir)
    if not path.is_file():
        return 0
    try:
        data = json.loads(path.read_text("utf-8"))
        renames = [(save_dir / temp, save_dir / target) for temp, target in data["renames"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SaveError(f"cannot read the interrupted rewrite journal {path}: {exc}") from exc
    pending = [(temp, target) for temp, target in renames if temp.exists()]
    try:
        apply_renames(save_dir, pending)
    except OSError as exc:
        raise SaveError(f"cannot finish the interrupted rewrite listed in {path}: {exc.strerror or exc}") from exc
    return len(pending)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(Path(path).resolve())
