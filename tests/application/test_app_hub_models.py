"""The "Add from the Hub…" flow without Qt: look up, licence acceptance, download, already cached."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
import hub_server  # noqa: E402
from test_hub_any_id import FACES, make_repo  # noqa: E402

from segstudio.application.training import hub_models  # noqa: E402
from segstudio.core.errors import SegStudioError  # noqa: E402
from segstudio.model.weights.hub import DownloadCancelled  # noqa: E402

pytest.importorskip("transformers")


@pytest.fixture
def served(tmp_path_factory, tmp_path, monkeypatch):
    repo = make_repo(tmp_path_factory.mktemp("faces"))
    with hub_server.serving(monkeypatch, tmp_path / "hf-home", {FACES: repo}) as server:
        yield server


def test_app_hub_models_look_up_accept_download_then_cached(served) -> None:
    choice = hub_models.look_up(f"  {FACES} ")
    assert choice.cached is None and hub_models.needs_acceptance(choice)
    assert "Licence: cc-by-nc-4.0" in choice.summary and "MB to download" in choice.summary
    with pytest.raises(DownloadCancelled):
        hub_models.download(choice, should_stop=lambda: True)
    progress = []
    folder = hub_models.download(choice, on_progress=lambda done, total: progress.append((done, total)))
    assert (folder / "model.safetensors").is_file() and progress[-1][0] == progress[-1][1]
    again = hub_models.look_up(FACES)
    assert again.cached == folder and not hub_models.needs_acceptance(again)
    assert "already in the Hugging Face cache" in again.summary
    assert hub_models.download(again) == folder and not hub_models.is_encoder(again, folder)


@pytest.mark.parametrize("text, message", [("someone/absent", "someone/absent was not found on"),
                                           ("a/b/c", "neither a catalogue model nor a hub id")])
def test_app_hub_models_bad_ids_are_one_line(served, text, message) -> None:
    with pytest.raises(SegStudioError, match=message) as caught:
        hub_models.look_up(text)
    assert "\n" not in str(caught.value)


def test_app_hub_models_a_stop_during_look_up_is_a_cancel_and_a_huge_card_is_an_unknown_licence(served) -> None:
    with pytest.raises(DownloadCancelled, match="look-up of .* stopped"):
        hub_models.look_up(FACES, should_stop=lambda: True)
    served.repos[FACES].files["README.md"] = b"---\nlicense: mit\n---\n" + b"x" * (1 << 21)
    served.log.clear()
    choice = hub_models.look_up(FACES)
    assert "Licence: unknown (its model card is over 1 MB" in choice.summary and hub_models.needs_acceptance(choice)
    assert not [p for m, p, _ in served.log if m == "GET" and p.endswith("README.md")]
