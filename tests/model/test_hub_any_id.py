"""Any SegFormer on the hub by its id (issue 28), against the loopback hub: first use downloads
into the standard cache after judging config.json and reading the card's licence; then offline.
Every bad input is one line, writes nothing outside the cache and leaves nothing that looks complete.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import hub_server  # noqa: E402

from segstudio.core.errors import CheckpointError  # noqa: E402
from segstudio.model.weights import hub, hub_cache  # noqa: E402
from segstudio.model.weights.checkpoints import load_model  # noqa: E402

transformers = pytest.importorskip("transformers")

FACES = "someone/segformer-b0-finetuned-faces"
CARD = b"---\nlicense: cc-by-nc-4.0\ntags:\n- segformer\n---\n# Faces\nA face parser.\n"
PREPROCESSOR = {"do_normalize": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5], "size": {"height": 256, "width": 256}}


def make_repo(folder: Path, labels: int = 3, hidden=(16, 32, 64, 128)) -> Path:
    """A small fine-tune as a user would publish it: config, weights, preprocessor config, card."""
    config = transformers.SegformerConfig(hidden_sizes=list(hidden), depths=[1, 1, 1, 1],
                                          num_attention_heads=[1, 2, 2, 4], decoder_hidden_size=64,
                                          num_labels=labels)
    config.id2label = {i: f"part {i}" for i in range(labels)}
    config.label2id = {v: k for k, v in config.id2label.items()}
    transformers.SegformerForSemanticSegmentation(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR))
    (folder / "README.md").write_bytes(CARD)
    return folder


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("faces"))


@pytest.fixture
def served(repo, tmp_path, monkeypatch):
    home = tmp_path / "hf-home"
    with hub_server.serving(monkeypatch, home, {FACES: repo}) as server:
        yield server, home


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


def _outside_cache(tmp_path: Path) -> set[str]:
    """Every path under tmp_path except the hub cache itself."""
    return {p for p in _tree(tmp_path) if p != "hf-home" and not p.startswith("hf-home/hub")}


def _repo_tree(home: Path, hub_id: str) -> set[str]:
    return _tree(home / "hub" / ("models--" + hub_id.replace("/", "--")))


def test_hub_any_id_downloads_on_first_use_then_resolves_offline(served, repo, monkeypatch) -> None:
    server, home = served
    events = []
    found = hub.resolve(FACES, on_remote=lambda r: events.append(("remote", r)),
                        on_start=lambda hub_id, total: events.append(("start", total)))
    assert found.source == "download" and found.hub_id == FACES and found.entry is None
    remote = events[0][1]
    assert [e[0] for e in events] == ["remote", "start"]          # what it is and its licence come first
    assert remote.what == "SegFormer segmenter, 3 classes (hidden sizes 16-128)" and not remote.encoder
    assert remote.licence == "cc-by-nc-4.0" and not remote.permissive
    weights = (repo / "model.safetensors").stat().st_size
    assert events[1][1] == remote.size > weights
    assert found.path.parent.parent == home / "hub" / "models--someone--segformer-b0-finetuned-faces"
    names = sorted(p.name for p in found.path.iterdir())
    assert names == ["config.json", "model.safetensors", "preprocessor_config.json"]   # the card is not kept
    assert (found.path.parents[1] / "refs" / "main").read_text() == server.repos[FACES].commit

    requests = len(server.log)
    server.stop()
    hub_server.point_hub_at(monkeypatch, home, server.endpoint, offline=True)
    again = hub.resolve(FACES)
    assert again.source == "cache" and again.path == found.path and len(server.log) == requests
    model, info = load_model(again.path)
    assert info.class_names == ["part 0", "part 1", "part 2"]
    assert info.image_size == 256 and info.mean == (0.5, 0.5, 0.5) and info.std == (0.5, 0.5, 0.5)
    assert info.preprocessing == ("size 256 px, mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5] from its "
                                  "preprocessor_config.json")


def test_hub_any_id_without_preprocessor_config_follows_our_rule_and_says_so(served, repo, tmp_path) -> None:
    server, _ = served
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("config.json", "model.safetensors"):
        (plain / name).write_bytes((repo / name).read_bytes())
    server.add_folder("someone/plain", plain)
    remote = hub.look_up("someone/plain")
    assert remote.licence is None and "not stated in its model card" in remote.licence_text
    _, info = load_model(hub.resolve("someone/plain").path)
    assert info.image_size == 512 and info.preprocessing.startswith("no preprocessor_config.json: segstudio's rule")


def test_hub_look_up_reads_only_small_files_and_writes_nothing(served, tmp_path) -> None:
    server, home = served
    before = _tree(tmp_path)
    remote = hub.look_up(FACES)
    assert remote.weights_file == "model.safetensors" and remote.commit == server.repos[FACES].commit
    assert _tree(tmp_path) == before
    assert not [path for method, path, _ in server.log if method == "GET" and path.endswith(".safetensors")]


def test_hub_any_id_pinned_to_a_revision(served) -> None:
    server, home = served
    commit = server.repos[FACES].commit
    found = hub.resolve(f"{FACES}@{commit}")
    assert found.path.name == commit and found.source == "download"
    assert not (found.path.parents[1] / "refs").exists()      # a commit is no branch: no ref written
    assert hub.resolve(f"{FACES}@{commit}").source == "cache"
    with pytest.raises(CheckpointError, match=f"{FACES} on .* has no such revision"):
        hub.resolve(f"{FACES}@v9")


def test_hub_permissive_licence_needs_no_question(served, repo, tmp_path) -> None:
    server, _ = served
    other = tmp_path / "apache"
    other.mkdir()
    for path in repo.iterdir():
        (other / path.name).write_bytes(path.read_bytes())
    (other / "README.md").write_text("---\nlicense: apache-2.0\n---\n")
    server.add_folder("someone/apache", other)
    assert hub.look_up("someone/apache").permissive


# ------------------------------------------------------------------------------------- bad input


def _not_a_segformer(server, repo, tmp_path, monkeypatch):
    files = dict(server.repos[FACES].files)
    files["config.json"] = json.dumps({"model_type": "vit", "architectures": ["ViTForImageClassification"]}).encode()
    server.repos["someone/vit"] = hub_server.Repo(files)
    return "someone/vit", r"someone/vit is a vit model \(ViTForImageClassification\), not a SegFormer"


def _faces_with(server, hub_id: str, change) -> str:
    """Serve the faces repository again as ``hub_id``, its config.json changed by ``change(config)``."""
    files = dict(server.repos[FACES].files)
    config = json.loads(files["config.json"])
    change(config)
    files["config.json"] = json.dumps(config).encode()
    server.repos[hub_id] = hub_server.Repo(files)
    return hub_id


def _million_labels(server, repo, tmp_path, monkeypatch):
    def change(config):
        config.pop("id2label"), config.pop("label2id")
        config["num_labels"] = 1_000_000
    return (_faces_with(server, "someone/million", change),
            "claims 1,000,000 classes; a SegFormer segstudio can load has 1 to 255")


def _million_names(server, repo, tmp_path, monkeypatch):
    def change(config):
        config["id2label"] = {str(i): f"class {i}" for i in range(1_000_000)}
    return (_faces_with(server, "someone/million", change),
            "its config.json is .* MB, more than such a file can sensibly be")


def _four_channels(server, repo, tmp_path, monkeypatch):
    _faces_with(server, "someone/rgbn", lambda config: config.update(num_channels=4))
    return "someone/rgbn", "someone/rgbn: its config.json takes 4-channel images; segstudio feeds RGB"


def _weights_of_another_model(server, repo, tmp_path, monkeypatch):
    other = make_repo(tmp_path / "b-other", hidden=(32, 64, 160, 256))
    files = dict(server.repos[FACES].files)
    files["model.safetensors"] = (other / "model.safetensors").read_bytes()
    server.repos["someone/mismatch"] = hub_server.Repo(files)
    return "someone/mismatch", "someone/mismatch: its weights do not fit its config.json.*nothing was kept"


def _missing(server, repo, tmp_path, monkeypatch):
    return "someone/missing", "someone/missing was not found on http://127.0.0.1"


def _cut(server, repo, tmp_path, monkeypatch):
    server.faults.cut_after, server.faults.cuts_left, server.faults.fail_after_cut = 500_000, 1, True
    return FACES, r"interrupted \(0\.5 of .* MB, kept\).*run it again to continue"


def _portal(server, repo, tmp_path, monkeypatch):
    server.faults.portal = True
    return FACES, "did not answer like a Hugging Face hub .*check HF_ENDPOINT"


def _truncated_weights(server, repo, tmp_path, monkeypatch):
    server.faults.truncate = {"model.safetensors": 300_000}
    return FACES, "interrupted .* the server sent less than it announced"


def _truncated_config(server, repo, tmp_path, monkeypatch):
    server.faults.truncate = {"config.json": 100}
    return FACES, "config.json does not match the checksum the server announced"


def _wrong_checksum(server, repo, tmp_path, monkeypatch):
    server.faults.etag = "ab" * 32
    return FACES, "model.safetensors does not match the checksum the server announced"


def _dotdot_names(server, repo, tmp_path, monkeypatch):
    files = server.repos[FACES].files
    server.repos["someone/dotdot"] = hub_server.Repo({"config.json": files["config.json"],
                                                      "../model.safetensors": files["model.safetensors"],
                                                      "../../../escaped": b"x" * 2000})
    return "someone/dotdot", "someone/dotdot has neither model.safetensors nor pytorch_model.bin"


def _dotdot_revision(server, repo, tmp_path, monkeypatch):
    return f"{FACES}@../../escaped", r"nor a valid hub id \(revision '\.\./\.\./escaped' is not"


def _offline(server, repo, tmp_path, monkeypatch):
    hub_server.point_hub_at(monkeypatch, tmp_path / "hf-home", server.endpoint, offline=True)
    return FACES, f"{FACES} is not in the Hugging Face cache .* downloads are off \\(HF_HUB_OFFLINE\\)"


@pytest.mark.parametrize("bad", [_not_a_segformer, _million_labels, _million_names, _four_channels,
                                 _weights_of_another_model,
                                 _missing, _cut, _portal, _truncated_weights, _truncated_config, _wrong_checksum,
                                 _dotdot_names, _dotdot_revision, _offline], ids=lambda f: f.__name__[1:])
def test_hub_bad_input_is_one_line_and_leaves_no_usable_looking_model(served, repo, tmp_path, monkeypatch,
                                                                       bad) -> None:
    server, home = served
    before = _outside_cache(tmp_path)
    hub_id, message = bad(server, repo, tmp_path, monkeypatch)
    with pytest.raises(CheckpointError, match=message) as caught:
        hub.resolve(hub_id)
    assert "\n" not in str(caught.value)
    assert _outside_cache(tmp_path) - before <= {"b-other", "b-other/config.json", "b-other/model.safetensors",
                                                 "b-other/preprocessor_config.json", "b-other/README.md"}
    plain_id = hub_id.split("@")[0]
    left = _repo_tree(home, plain_id)
    assert not [p for p in left if p.startswith(("snapshots", "refs"))], left   # nothing looks complete
    assert {p for p in left if p.startswith("blobs/")} <= {
        p for p in left if p.endswith(".incomplete")} | {"blobs"}               # only a resumable part
    assert hub_cache.cached_snapshot(plain_id) is None
    assert not list(tmp_path.rglob("escaped*"))


def test_hub_not_a_segformer_is_refused_before_its_weights_are_asked_for(served, repo, tmp_path) -> None:
    server, _ = served
    hub_id, _ = _not_a_segformer(server, repo, tmp_path, None)
    with pytest.raises(CheckpointError):
        hub.resolve(hub_id)
    assert not [path for _, path, _ in server.log if path.endswith(".safetensors") or path.startswith("/blobs/")]


def test_hub_private_repo_without_token_is_one_line_and_works_with_hf_token(served, monkeypatch) -> None:
    server, _ = served
    server.repos[FACES].token = "hf_private"
    with pytest.raises(CheckpointError, match=f"{FACES} was not found on .* private and no valid token is set"):
        hub.resolve(FACES)
    monkeypatch.setenv("HF_TOKEN", "hf_private")
    assert hub.resolve(FACES).source == "download"


def test_hub_an_id_that_may_be_a_mistyped_path_says_so_offline_or_unreachable(served, monkeypatch, tmp_path) -> None:
    server, home = served
    hub_server.point_hub_at(monkeypatch, home, "http://127.0.0.1:9")      # nothing listens there
    with pytest.raises(CheckpointError) as caught:
        hub.resolve("runs/best")
    assert str(caught.value).startswith("model runs/best not found: it is not a file or folder, nor in the "
                                        "Hugging Face cache, and cannot reach http://127.0.0.1:9")
    hub_server.point_hub_at(monkeypatch, home, offline=True)
    with pytest.raises(hub.NotCached) as caught:
        hub.resolve("runs/best", save_dir=tmp_path)
    assert str(caught.value).startswith(f"model runs/best not found: it is not a file or folder, nor a model in "
                                        f"{tmp_path / 'models'}, and runs/best is not in the Hugging Face cache")
