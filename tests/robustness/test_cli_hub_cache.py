"""``segstudio-cli fetch-model`` never writes through a link planted in the Hugging Face cache (an
unfinished download, ``blobs``, ``snapshots/<commit>``, ``refs``, a lock file), never blocks on a
pipe there, and reads ``refs/main`` bounded: one line each, the link's target untouched."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model"))
import hub_server  # noqa: E402
from cli_helpers import error_line  # noqa: E402
from core_hostile import call_with_timeout  # noqa: E402
from state_helpers import checksums  # noqa: E402

transformers = pytest.importorskip("transformers")

HUB_ID = "someone/tiny"
REPO_DIR = "models--someone--tiny"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("checkpoint")
    config = transformers.SegformerConfig(hidden_sizes=[16, 32, 48, 64], depths=[1, 1, 1, 1],
                                          num_attention_heads=[1, 2, 3, 4], decoder_hidden_size=32,
                                          num_labels=3)
    transformers.SegformerForSemanticSegmentation(config).save_pretrained(folder)
    return folder


@pytest.fixture
def served(checkpoint, tmp_path, monkeypatch):
    """(the cache folder, a folder of the user's outside it) with a loopback hub serving HUB_ID."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("the user's own notes\n")
    with hub_server.serving(monkeypatch, tmp_path / "hf-home", {HUB_ID: checkpoint}):
        yield tmp_path / "hf-home" / "hub", outside


def weights_sha(checkpoint: Path) -> str:
    return hashlib.sha256((checkpoint / "model.safetensors").read_bytes()).hexdigest()


def fetch(capsys, *extra) -> str:
    """Run fetch-model (failing the test if it blocks) and return its one error line."""
    kind, status = call_with_timeout(lambda: main(["fetch-model", HUB_ID, *extra]))
    assert kind == "ok" and status == 1, status
    return error_line(capsys.readouterr().err)


def test_an_unfinished_download_that_is_a_link_is_not_appended_to(served, checkpoint, capsys):
    cache, outside = served
    part = cache / REPO_DIR / "blobs" / f"{weights_sha(checkpoint)}.incomplete"
    part.parent.mkdir(parents=True)
    part.symlink_to(outside / "notes.txt")
    before = checksums(outside)
    line = fetch(capsys)
    assert "unfinished download" in line and "symbolic link" in line
    assert checksums(outside) == before and part.is_symlink()


def test_an_unfinished_download_that_is_a_pipe_does_not_block(served, checkpoint, capsys):
    cache, _outside = served
    part = cache / REPO_DIR / "blobs" / f"{weights_sha(checkpoint)}.incomplete"
    part.parent.mkdir(parents=True)
    os.mkfifo(part)
    kind, status = call_with_timeout(lambda: main(["fetch-model", HUB_ID]), fifo=part)
    assert kind == "ok" and status == 1
    assert "pipe" in error_line(capsys.readouterr().err)


@pytest.mark.parametrize("linked", ["blobs", "snapshots", "refs", "repository"])
def test_a_linked_cache_folder_is_not_written_through(served, capsys, linked):
    cache, outside = served
    repo = cache / REPO_DIR
    repo.parent.mkdir(parents=True)
    if linked == "repository":
        repo.symlink_to(outside, target_is_directory=True)
    else:
        repo.mkdir()
        (repo / linked).symlink_to(outside, target_is_directory=True)
    before = checksums(outside)
    line = fetch(capsys)
    assert "symbolic link" in line
    assert checksums(outside) == before


def test_a_lock_file_that_is_a_link_is_not_opened(served, checkpoint, capsys):
    cache, outside = served
    lock = cache / ".locks" / REPO_DIR / f"{weights_sha(checkpoint)}.lock"
    lock.parent.mkdir(parents=True)
    lock.symlink_to(outside / "notes.txt")
    before = checksums(outside)
    assert "symbolic link" in fetch(capsys)
    assert checksums(outside) == before


def test_import_from_a_file_never_writes_through_a_linked_blobs_folder(served, checkpoint, capsys):
    cache, outside = served
    (cache / REPO_DIR).mkdir(parents=True)
    (cache / REPO_DIR / "blobs").symlink_to(outside, target_is_directory=True)
    before = checksums(outside, checkpoint)
    line = fetch(capsys, "--from", str(checkpoint / "model.safetensors"))
    assert "symbolic link" in line
    assert checksums(outside, checkpoint) == before


@pytest.mark.parametrize("kind", ["pipe", "huge"])
def test_a_hostile_ref_is_one_line(served, capsys, kind):
    cache, _outside = served
    ref = cache / REPO_DIR / "refs" / "main"
    ref.parent.mkdir(parents=True)
    if kind == "pipe":
        os.mkfifo(ref)
    else:
        with open(ref, "wb") as handle:
            handle.truncate(64 * 1024 * 1024)  # sparse: costs no disk
    kind_, status = call_with_timeout(lambda: main(["fetch-model", HUB_ID]), fifo=ref if kind == "pipe" else None)
    assert kind_ == "ok" and status == 1
    line = error_line(capsys.readouterr().err)
    assert "refs" in line and ("pipe" in line or "too large" in line)


@pytest.mark.parametrize("where", ["this repository", "another repository"])
def test_a_pipe_among_the_refs_does_not_block_finding_a_cached_model(served, checkpoint, capsys, where):
    """A snapshot that refs/main does not name is still found (transformers' refs/pr/N), without
    opening the refs: huggingface_hub's cache scan would block on the pipe."""
    cache, _outside = served
    snapshot = cache / REPO_DIR / "snapshots" / ("ab" * 20)
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (snapshot / name).write_bytes((checkpoint / name).read_bytes())
    refs = cache / (REPO_DIR if where == "this repository" else "models--other--model") / "refs" / "refs" / "pr"
    refs.mkdir(parents=True)
    (refs.parents[2] / "snapshots").mkdir(exist_ok=True)
    os.mkfifo(refs / "1")
    kind, status = call_with_timeout(lambda: main(["fetch-model", HUB_ID]), fifo=refs / "1")
    assert kind == "ok" and status == 0
    captured = capsys.readouterr()
    assert "already in the cache" in captured.err and captured.out.strip() == str(snapshot)


def test_the_models_dock_lists_a_model_whose_ref_is_hostile(served, monkeypatch):
    from segstudio.application.training.pretrained import rows
    from segstudio.model.weights import catalogue

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.setattr(catalogue, "_load_default", lambda: catalogue.load(repo / "resources" / "catalogue.json"))
    cache, _outside = served
    ref = cache / "models--nvidia--mit-b0" / "refs" / "main"
    ref.parent.mkdir(parents=True)
    with open(ref, "wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    listed = {row.entry.id: row.downloaded for row in rows()}
    assert listed["nvidia/mit-b0"] is False
