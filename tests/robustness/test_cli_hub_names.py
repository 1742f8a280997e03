"""A MODEL that looks like ``owner/name`` but that huggingface_hub rejects (``nvidia/mit-b0.``,
``a/b..c``, ``--``, too long...) is one line from every command that takes a MODEL, never an
``HFValidationError`` traceback; valid ids still reach the hub."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from segstudio.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model"))
import hub_server  # noqa: E402
from cli_helpers import checksums, error_line, photo  # noqa: E402
from train_synth import make_project  # noqa: E402

BAD_NAMES = ["nvidia/mit-b0.", "a/b..c", "own--er/name", "owner/" + "x" * 100, "owner/name.git", "owner/name-"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    image_dir, save_dir = make_project(root, count=2, size=32)
    photo(root / "photos" / "a.jpg")
    return root, image_dir, save_dir


@pytest.fixture
def offline(tmp_path, monkeypatch):
    hub_server.point_hub_at(monkeypatch, tmp_path / "hf-home", offline=True)
    yield
    hub_server.restore_hub(monkeypatch)


def commands(name: str, root: Path, image_dir: Path, save_dir: Path) -> dict[str, list[str]]:
    return {
        "predict": ["predict", name, str(root / "photos"), str(root / "out"), "--device", "cpu"],
        "model-info": ["model-info", name],
        "fetch-model": ["fetch-model", name],
        "export-onnx": ["export-onnx", name, str(root / "m.onnx")],
        "train": ["train", str(save_dir), "--images", str(image_dir), "--model", name, "--device", "cpu"],
        "evaluate": ["evaluate", str(save_dir), "--model", name, "--images", str(image_dir),
                     "--classes", str(save_dir / "classes.txt"), "--device", "cpu"],
    }


@pytest.mark.parametrize("command", ["predict", "model-info", "fetch-model", "export-onnx", "train", "evaluate"])
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_huggingface_hub_rejects_is_one_line(folders, offline, capsys, command, name):
    root, image_dir, save_dir = folders
    before = checksums(root)
    assert main(commands(name, root, image_dir, save_dir)[command]) == 1
    line = error_line(capsys.readouterr().err)
    assert name in line and "Validation" not in line
    assert checksums(root) == before and not (root / "out").exists() and not (root / "m.onnx").exists()


def test_a_valid_id_still_goes_to_the_hub(folders, offline, capsys):
    assert main(["fetch-model", "owner/name.v2"]) == 1
    assert "HF_HUB_OFFLINE" in error_line(capsys.readouterr().err)  # accepted as an id: offline is the reason
