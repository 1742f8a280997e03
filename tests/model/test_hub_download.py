"""Downloading a catalogue model from a loopback hub: progress, offline reuse, cuts, checksums.

The hub is real HTTP on 127.0.0.1 in the hub's URL layout (tests/model/hub_server.py), serving a
checkpoint made here with transformers; huggingface_hub is pointed at it through HF_ENDPOINT and
HF_HOME (in tmp_path), as a user would with a mirror.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import hub_server  # noqa: E402

from segstudio.core.errors import CheckpointError  # noqa: E402
from segstudio.model.weights import catalogue, hub, hub_cache  # noqa: E402

transformers = pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[2]
ADE_ID = "nvidia/segformer-b0-finetuned-ade-512-512"


def make_checkpoint(folder: Path, safetensors: bool = True) -> Path:
    """A small SegFormer saved by transformers (about 1.8 MB of weights: two 1 MiB chunks)."""
    config = transformers.SegformerConfig(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1],
                                          num_attention_heads=[1, 2, 2, 4], decoder_hidden_size=64,
                                          num_labels=3)
    model = transformers.SegformerForSemanticSegmentation(config)
    model.save_pretrained(folder)
    if not safetensors:   # transformers 5 writes only safetensors; older NVIDIA repos hold a pickle
        (folder / "model.safetensors").unlink()
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("checkpoint"))


@pytest.fixture
def served(checkpoint, tmp_path, monkeypatch):
    """(loopback hub serving the checkpoint as the b0 ADE20K model, HF_HOME) with the hub in use."""
    monkeypatch.setattr(catalogue, "_load_default",
                        lambda: catalogue.load(REPO / "resources" / "catalogue.json"))
    home = tmp_path / "hf-home"
    with hub_server.serving(monkeypatch, home, {ADE_ID: checkpoint}) as server:
        yield server, home


def _weights(checkpoint: Path) -> bytes:
    return (checkpoint / "model.safetensors").read_bytes()


def _repo_files(home: Path) -> dict[str, str]:
    """Every path under the model's cache folder -> sha256 (or "link"/"dir"), to compare states."""
    root = home / "hub" / "models--nvidia--segformer-b0-finetuned-ade-512-512"
    out = {}
    for path in sorted(root.rglob("*")) if root.exists() else []:
        key = str(path.relative_to(root))
        if path.is_symlink():
            out[key] = "link"
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_hub_first_use_downloads_with_progress_then_offline_uses_the_cache(served, checkpoint,
                                                                           monkeypatch) -> None:
    server, home = served
    starts, progress = [], []
    found = hub.resolve("b0-ade", on_start=lambda *a: starts.append(a),
                        on_progress=lambda done, total: progress.append((done, total)))
    total = len(_weights(checkpoint)) + (checkpoint / "config.json").stat().st_size
    assert found.source == "download" and found.hub_id == ADE_ID and found.entry.short == "b0-ade"
    assert starts == [(ADE_ID, total)]
    assert progress[-1] == (total, total) and len(progress) >= 3
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    # huggingface_hub's layout: blobs named by sha256 / git id, snapshot links, refs/main
    commit = server.repos[ADE_ID].commit
    repo_folder = home / "hub" / "models--nvidia--segformer-b0-finetuned-ade-512-512"
    assert found.path == repo_folder / "snapshots" / commit
    assert (found.path / "model.safetensors").is_symlink()
    assert (found.path / "model.safetensors").read_bytes() == _weights(checkpoint)
    assert (found.path.parents[1] / "refs" / "main").read_text() == commit
    assert not list(home.rglob("*.incomplete"))
    from huggingface_hub import try_to_load_from_cache
    assert try_to_load_from_cache(ADE_ID, "model.safetensors") == str(found.path / "model.safetensors")

    # second use: the server is gone and downloads are off
    requests = len(server.log)
    server.stop()
    hub_server.point_hub_at(monkeypatch, home, server.endpoint, offline=True)
    again = hub.resolve("nvidia/segformer-b0-finetuned-ade-512-512")
    assert again.source == "cache" and again.path == found.path and len(server.log) == requests
    # transformers finds our download too (offline), and so does segstudio's loader
    hf = transformers.SegformerForSemanticSegmentation.from_pretrained(ADE_ID, local_files_only=True)
    assert hf.config.num_labels == 3
    from segstudio.model.weights.checkpoints import load_model
    model, info = load_model(again.path)
    assert model.config.num_labels == 3 and info.source_format.startswith("hf")


def test_hub_cut_connection_is_continued_in_the_same_call(served, checkpoint) -> None:
    server, home = served
    server.faults.cut_after, server.faults.cuts_left = 700_000, 1
    found = hub.resolve("b0-ade")
    assert (found.path / "model.safetensors").read_bytes() == _weights(checkpoint)
    ranges = [r for _, _, r in server.gets(".safetensors") + server.log if r]
    assert "bytes=700000-" in ranges
    assert not list(home.rglob("*.incomplete"))


def test_hub_interrupted_download_leaves_nothing_corrupt_and_resumes_next_time(served, checkpoint
                                                                               ) -> None:
    server, home = served
    server.faults.cut_after, server.faults.cuts_left = 1_200_000, 1
    server.faults.fail_after_cut = True          # the network stays down after the cut
    with pytest.raises(CheckpointError, match=r"interrupted \(1\.2 of 1\.8 MB, kept\).*again"):
        hub.resolve("b0-ade")
    sha = hashlib.sha256(_weights(checkpoint)).hexdigest()
    files = _repo_files(home)
    assert f"blobs/{sha}" not in files and f"blobs/{sha}.incomplete" in files
    assert not any(k.endswith("model.safetensors") for k in files)   # no snapshot entry
    assert hub_cache.cached_snapshot(ADE_ID) is None
    repo_folder = home / "hub" / "models--nvidia--segformer-b0-finetuned-ade-512-512"
    partial = repo_folder / "blobs" / f"{sha}.incomplete"
    assert partial.read_bytes() == _weights(checkpoint)[:1_200_000]

    server.faults.failing = False
    progress = []
    found = hub.resolve("b0-ade", on_progress=lambda done, total: progress.append(done))
    assert (found.path / "model.safetensors").read_bytes() == _weights(checkpoint)
    assert server.gets(sha)[-1][2] == "bytes=1200000-"          # only the rest was asked for
    config_size = (checkpoint / "config.json").stat().st_size   # read again: small files are kept only with the model
    assert 1_200_000 + config_size in progress and not partial.exists()


def test_hub_cancel_before_the_first_byte_writes_no_model(served, checkpoint) -> None:
    server, home = served
    with pytest.raises(hub.DownloadCancelled, match="stopped.*kept.*continues"):
        hub.resolve("b0-ade", should_stop=lambda: True)
    assert hub_cache.cached_snapshot(ADE_ID) is None
    assert not [k for k in _repo_files(home) if k.startswith(("blobs/", "snapshots/"))]
    found = hub.resolve("b0-ade")
    assert (found.path / "model.safetensors").read_bytes() == _weights(checkpoint)


def test_hub_cancel_mid_file_resumes_from_the_byte_reached(served, checkpoint) -> None:
    server, home = served
    seen = []

    def stop_after_first_mib() -> bool:
        return bool(seen) and seen[-1] >= 1 << 20

    with pytest.raises(hub.DownloadCancelled):
        hub.resolve("b0-ade", on_progress=lambda done, total: seen.append(done),
                    should_stop=stop_after_first_mib)
    config_size = (checkpoint / "config.json").stat().st_size
    partial = next(home.rglob("*.incomplete"))
    assert partial.stat().st_size == seen[-1] - config_size
    hub.resolve("b0-ade")
    assert any(r == f"bytes={seen[-1] - config_size}-" for _, _, r in server.log)


@pytest.mark.parametrize("name, algorithm", [("model.safetensors", "sha256"),
                                             ("config.json", "git sha1")])
def test_hub_checksum_mismatch_is_rejected_and_nothing_is_kept(served, checkpoint, name, algorithm
                                                               ) -> None:
    """The weights are checked against their sha256 (X-Linked-Etag), config.json against its
    git blob id (ETag); a file that differs is deleted, not cached, not kept to resume."""
    server, home = served
    server.faults.corrupt = {name}
    with pytest.raises(CheckpointError, match=(
            f"segformer-b0-finetuned-ade-512-512: {name} does not match the checksum the server "
            rf"announced \({algorithm} ")):
        hub.resolve("b0-ade")
    files = _repo_files(home)
    assert not any(k.endswith((".incomplete", f"/{name}")) for k in files)
    assert not [k for k in files if k.startswith("blobs/") and len(k) == 6 + 64]   # no weights
    assert hub_cache.cached_snapshot(ADE_ID) is None
    server.faults.corrupt = set()
    assert (hub.resolve("b0-ade").path / "model.safetensors").read_bytes() == _weights(checkpoint)


def test_hub_two_downloads_of_the_same_model_at_once_share_the_work(served, checkpoint) -> None:
    """huggingface_hub's lock for the blob is taken, so two downloads never write one file."""
    import threading
    server, _ = served
    results, errors = [], []

    def run() -> None:
        try:
            results.append(hub.resolve("b0-ade").path)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert (results[0] / "model.safetensors").read_bytes() == _weights(checkpoint)
    assert len([g for g in server.log if g[0] == "GET" and g[1].startswith("/blobs/")]) == 1


@pytest.mark.parametrize("field", ["etag", "commit"])
def test_hub_hostile_etag_or_commit_never_becomes_a_path(served, tmp_path, field) -> None:
    """A mirror announcing "../../../../escaped" as the weights' ETag or as the commit: both
    become names in the cache, so both are refused before anything is written."""
    server, home = served
    if field == "etag":
        server.faults.etag = "../../../../escaped"
    else:
        server.repos[ADE_ID].commit = "../../../../escaped"
    with pytest.raises(CheckpointError, match="unusable commit .*escaped"):
        hub.resolve("b0-ade")
    assert not list(tmp_path.parent.rglob("escaped*"))
    assert not [k for k in _repo_files(home) if k.startswith(("blobs/", "snapshots/", "refs/"))]


def test_hub_pytorch_bin_when_the_repository_has_no_safetensors(served, tmp_path) -> None:
    server, home = served
    server.add_folder(ADE_ID, make_checkpoint(tmp_path / "bin", safetensors=False))
    found = hub.resolve("b0-ade")
    assert (found.path / "pytorch_model.bin").is_file() and not (found.path / "model.safetensors").exists()
    heads = [path for method, path, _ in server.log if method == "HEAD"]
    asked = [h.rsplit("/", 1)[-1] for h in heads if h.endswith((".safetensors", ".bin"))]
    assert asked == ["model.safetensors", "pytorch_model.bin"]          # safetensors asked for first


def test_hub_missing_repository_is_one_clear_line(served) -> None:
    server, _ = served
    server.repos.clear()
    with pytest.raises(CheckpointError, match=f"{ADE_ID} was not found on {server.endpoint}"):
        hub.resolve("b0-ade")


def test_hub_token_reaches_the_hub_but_not_the_cdn(served, checkpoint, monkeypatch) -> None:
    """A private repository: refused without a token, fetched with HF_TOKEN, and the token is
    never sent to the download host the hub redirects to."""
    server, _ = served
    server.repos[ADE_ID].token = "hf_secret"
    with pytest.raises(CheckpointError, match="not found on .* private and no valid token"):
        hub.resolve("b0-ade")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    found = hub.resolve("b0-ade")
    assert (found.path / "model.safetensors").read_bytes() == _weights(checkpoint)
    hub_requests = [auth for path, auth in server.auth if "/resolve/" in path]
    cdn_requests = [auth for path, auth in server.auth if path.startswith("/blobs/")]
    assert "Bearer hf_secret" in hub_requests and cdn_requests == [None]


def test_hub_full_disk_is_one_line_about_the_cache(served, monkeypatch) -> None:
    import errno
    import os

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(CheckpointError, match="cannot write model.safetensors of .* into the Hugging Face "
                                              "cache .*: No space left on device"):
        hub.resolve("b0-ade")
    assert hub_cache.cached_snapshot(ADE_ID) is None


def test_hub_repository_without_weights_or_config_is_one_clear_line(served) -> None:
    server, _ = served
    files = server.repos[ADE_ID].files
    config = files.pop("config.json")
    with pytest.raises(CheckpointError, match=f"{ADE_ID} on {server.endpoint} has no config.json"):
        hub.resolve("b0-ade")
    files.clear()
    files["config.json"] = config
    with pytest.raises(CheckpointError, match="has neither model.safetensors nor pytorch_model.bin"):
        hub.resolve("b0-ade")
