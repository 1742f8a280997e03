"""Edit ▸ Your name in shared folders: kept in the user's settings, used by this window's claims from
the next image on and by every later window."""

from __future__ import annotations

from gui_helpers import settle

from segstudio.core.claims import ClaimBook


def claim_names(save_dir) -> dict[str, str]:
    return {stem: claim.person for stem, claim in ClaimBook(save_dir, "someone-else").others().items()}


def test_the_chosen_name_is_kept_and_names_new_claims(make_window, project_dir, settings, fake_dialogs):
    window = make_window(project_dir)
    first = window.session.entry.stem
    fake_dialogs.text_answer = "Carol Q."
    window.actions["your_name"].trigger()
    assert "ask_text" in fake_dialogs.names()
    assert settings.get_str("team/person") == "Carol Q."
    assert "taken by Carol Q." in window.statusBar().currentMessage()
    assert claim_names(project_dir)[first] != "Carol Q."  # the image on screen keeps its claim as made
    window.actions["next_image"].trigger()
    settle(window)
    assert claim_names(project_dir)[window.session.entry.stem] == "Carol Q."


def test_a_later_window_uses_the_saved_name_and_cancel_changes_nothing(make_window, project_dir, settings,
                                                                        fake_dialogs):
    settings.set("team/person", "Dana")
    window = make_window(project_dir)
    assert claim_names(project_dir)[window.session.entry.stem] == "Dana"
    fake_dialogs.text_answer = None  # cancelled
    window.actions["your_name"].trigger()
    assert settings.get_str("team/person") == "Dana" and window.session.person == "Dana"
