"""Repairing the open image's unusable mask, the one step of the session that renames a user's file.

The file is first moved aside (a ``.bak-<time>`` backup), whatever the repair: the repaired mask is a
new file and the one the user made is never replaced. The repaired map then becomes an edit like any
other (saved by autosave, undoable), and saving is allowed again once the mask fits. Never from a
window where the image or the project is read-only.
"""

from __future__ import annotations

from segstudio.application.session.session_parts import SessionParts
from segstudio.core import mask_guard, mask_repair
from segstudio.core.errors import SegStudioError
from segstudio.core.mask_repair import MaskDiagnosis


def repair_open_mask(session: SessionParts, repair: str) -> MaskDiagnosis | None:
    """Apply ``repair`` to the open image's mask; the next problem (a mask may be the wrong size and
    hold unknown values too), or None once the mask fits."""
    if session.read_only or session.taken:  # the repair renames the user's file: never from a read-only window
        raise SegStudioError(f"the image is {session.read_only or session.taken}; repair the mask in that window")
    loaded = session.current
    problem = loaded.mask_problem if loaded is not None else None
    if loaded is None or problem is None or repair not in problem.repairs:
        raise SegStudioError(f"{repair!r} does not apply to this mask")
    project, document = session.project, session.document
    assert project is not None and document is not None
    size = (document.width, document.height)
    if loaded.entry.mask_path.exists():
        # Every repair keeps the original beside it (<name>.bak-<time>): the repaired mask is a
        # new file, and the one the user made is never replaced, whichever repair was chosen.
        mask_repair.move_aside(loaded.entry.mask_path)
        if session._open is not None:  # moved aside by this window: no mask is what it expects now
            session._open.disk_digests[loaded.entry.stem] = mask_guard.ABSENT
        session.entry_changed.emit(loaded.index)
    if repair == mask_repair.ADD_CLASSES and problem.label is not None:  # (a "values" problem has it)
        with session.project_wide("add classes"):
            project.add_classes(mask_repair.classes_to_add(problem.label, len(project.classes)))
    classes = project.classes
    label = mask_repair.repaired_label(problem, repair, size, classes.colour_table(), len(classes))
    following = mask_repair.diagnose_label(label, size, len(project.classes), problem.path)
    loaded.mask_problem = following
    loaded.mask_error = following.message if following is not None else None
    if following is None:
        document.set_label(label)  # committed: autosave follows, as after any edit
    return following
