"""``segstudio-cli fetch-model`` against a loopback hub: download, licence, progress, offline, --from."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "model"))
import hub_server  # noqa: E402

from segstudio.cli.main import main  # noqa: E402
from segstudio.model.weights import catalogue  # noqa: E402

transformers = pytest.importorskip("transformers")

ADE_ID = "nvidia/segformer-b0-finetuned-ade-512-512"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A small SegFormer saved by transformers: about 1.8 MB of weights."""
    folder = tmp_path_factory.mktemp("checkpoint")
    config = transformers.SegformerConfig(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1],
                                          num_attention_heads=[1, 2, 2, 4], decoder_hidden_size=64,
                                          num_labels=3)
    transformers.SegformerForSemanticSegmentation(config).save_pretrained(folder)
    return folder


@pytest.fixture
def served(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setattr(catalogue, "_load_default",
                        lambda: catalogue.load(REPO / "resources" / "catalogue.json"))
    home = tmp_path / "hf-home"
    with hub_server.serving(monkeypatch, home, {ADE_ID: checkpoint, "someone/tiny": checkpoint}) as server:
        yield server, home


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_hub_cli_fetch_shows_licence_and_progress_then_works_offline(served, checkpoint, capsys,
                                                                     monkeypatch) -> None:
    server, home = served
    assert main(["fetch-model", "b0-ade"]) == 0
    out, err = capsys.readouterr()
    folder = Path(out.strip())
    assert (folder / "model.safetensors").read_bytes() == (checkpoint / "model.safetensors").read_bytes()
    assert "licence: NVIDIA Source Code License (non-commercial), https://github.com/NVlabs" in err
    assert "100%" in err and "segformer-b0-finetuned-ade-512-512" in err      # the tqdm bar
    assert err.index("licence") < err.index("100%")
    assert "--from FILE" in err and str(folder / "model.safetensors") in err

    server.stop()
    hub_server.point_hub_at(monkeypatch, home, server.endpoint, offline=True)
    assert main(["fetch-model", ADE_ID]) == 0
    out, err = capsys.readouterr()
    assert Path(out.strip()) == folder and "already in the cache" in err
    assert main(["fetch-model", "--list"]) == 0
    out, _ = capsys.readouterr()
    rows = out.strip().splitlines()[1:]
    assert len(rows) == 21
    assert [r for r in rows if r.split()[0] == "b0-ade"][0].split()[4] == "yes"
    assert [r for r in rows if r.split()[0] == "mit-b0"][0].split()[4] == "no"


def test_hub_cli_offline_still_gives_size_and_licence_from_the_catalogue(served, capsys, monkeypatch) -> None:
    """--help promises the size and licence before a download: offline they come from the catalogue
    all the same, then the one error line."""
    _, home = served
    hub_server.point_hub_at(monkeypatch, home, offline=True)
    assert main(["fetch-model", "b0-ade"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and "MB; licence: NVIDIA" in lines[0] and lines[0].startswith(ADE_ID)
    assert lines[1].startswith(f"segstudio-cli fetch-model: error: {ADE_ID} is not in the Hugging Face cache")


def test_hub_cli_offline_and_not_cached_then_from_file(served, checkpoint, tmp_path, capsys,
                                                       monkeypatch) -> None:
    _, home = served
    hub_server.point_hub_at(monkeypatch, home, offline=True)
    assert main(["fetch-model", "someone/tiny"]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("segstudio-cli fetch-model: error: someone/tiny is not in the Hugging Face cache")
    assert "segstudio-cli fetch-model someone/tiny --from FILE" in err

    copied = tmp_path / "usb"
    copied.mkdir()
    for name in ("config.json", "model.safetensors"):
        (copied / name).write_bytes((checkpoint / name).read_bytes())
    before = {p.name: _sha(p) for p in copied.iterdir()}
    assert main(["fetch-model", "someone/tiny", "--from", str(copied / "model.safetensors")]) == 0
    out, err = capsys.readouterr()
    assert "imported" in err and (Path(out.strip()) / "config.json").is_file()
    assert {p.name: _sha(p) for p in copied.iterdir()} == before
    assert main(["fetch-model", "someone/tiny"]) == 0       # now found offline
    assert "already in the cache" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["fetch-model"], "give a model NAME"),
    (["fetch-model", "not a model"], "neither a catalogue model nor a hub id"),
    (["fetch-model", "someone/missing"], "someone/missing was not found on http://127.0.0.1"),
    (["fetch-model", "mit-b0", "--from", "/nonexistent/model.safetensors"], "does not exist"),
])
def test_hub_cli_errors_are_one_line(served, capsys, argv, message) -> None:
    assert main(argv) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_hub_cli_checksum_mismatch_is_one_line_and_caches_nothing(served, capsys) -> None:
    server, home = served
    server.faults.corrupt = {"model.safetensors"}
    assert main(["fetch-model", "b0-ade"]) == 1
    _, err = capsys.readouterr()
    last = err.strip().splitlines()[-1]
    assert last.startswith("segstudio-cli fetch-model: error: nvidia/segformer-b0-finetuned-ade-512-512: "
                           "model.safetensors does not match the checksum the server announced")
    assert not [p for p in (home / "hub").rglob("*") if p.name.endswith(".safetensors")]


def test_hub_cli_subprocess_reads_the_environment(served, checkpoint, tmp_path) -> None:
    """The real command in a fresh process: HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE come from the
    environment, as a user sets them (huggingface_hub reads them when it is imported)."""
    from segstudio.model.weights.catalogue import default_path
    if not default_path().is_file():
        pytest.skip(f"the installed segstudio.resources ({default_path().parent}) is another "
                    "checkout's and has no catalogue.json yet")
    server, _ = served
    home = tmp_path / "fresh-home"
    command = [sys.executable, "-m", "segstudio.cli.main", "fetch-model", "mit-b0"]
    server.add_folder("nvidia/mit-b0", checkpoint)
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env=hub_server.hub_env(home, server.endpoint))
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(home / "hub" / "models--nvidia--mit-b0")
    offline = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                             env=hub_server.hub_env(home, "http://127.0.0.1:9", offline=True))
    assert offline.returncode == 0 and "already in the cache" in offline.stderr
    other = subprocess.run(command[:-1] + ["mit-b1"], capture_output=True, text=True, cwd=tmp_path,
                           timeout=120, env=hub_server.hub_env(home, offline=True))
    assert other.returncode == 1 and "HF_HUB_OFFLINE" in other.stderr
    # What it would fetch (size and licence, from the catalogue), then the error in one line.
    lines = other.stderr.strip().splitlines()
    assert "Traceback" not in other.stderr and len(lines) <= 2 and "error:" in lines[-1]
    assert "error:" not in "".join(lines[:-1])
