"""Asking for the repair of a mask that did not load, until it fits or the user leaves it read-only.

The repairs themselves are core.mask_repair's and the session applies them (Session.repair_mask);
this is the window's side: the dialog loop, and what the window allows afterwards (painting, saving
and the File > Repair mask… action).
"""

from __future__ import annotations

from segstudio.core.errors import SegStudioError
from segstudio.core.mask_repair import ADD_CLASSES
from segstudio.gui.window import dialogs


def offer_repair(window) -> bool:
    """Ask for a repair of the open image's mask until it fits (True), or keep the image read-only
    for its mask (False); its file is not written meanwhile (see Session)."""
    session = window.session
    if session.current is None or session.current.mask_problem is None:  # loading, or fine
        window.actions["repair_mask"].setEnabled(False)
        return session.current is not None
    problem = session.current.mask_problem
    name = session.entry.image_path.name
    while problem is not None:
        choice = dialogs.ask_mask_repair(window, name, problem.message, problem.repairs)
        if choice is None:
            break
        try:
            problem = session.repair_mask(choice)
        except SegStudioError as exc:
            dialogs.error(window, "Mask not repaired", str(exc))
            break
        if choice == ADD_CLASSES:
            window.classes_changed()
    _allow_editing(window, problem)
    return problem is None


def _allow_editing(window, problem) -> None:
    """Painting, saving and the repair action follow whether a problem is left."""
    read_only = problem is not None
    window.tools.set_document(None if read_only else window.session.document)
    window.view.set_editing_enabled(not read_only)
    window.actions["repair_mask"].setEnabled(read_only)
    if read_only:
        window.status.show(f"{problem.message} — read-only until repaired (File > Repair mask…)")
    else:
        window.status.show("")
        window.view.update_counts()
    window.status.update_title()
