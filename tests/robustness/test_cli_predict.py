"""``segstudio-cli predict`` never replaces a user's mask or image; bad options are one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from segstudio.cli.main import main
from segstudio.core.masks import read_mask, write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, error_line, photo, tiny_model  # noqa: E402


@pytest.fixture
def setup(tmp_path):
    model = tiny_model(tmp_path / "model")
    images = tmp_path / "images"
    photo(images / "beach.jpg", seed=1)
    photo(images / "street.png", seed=2)          # a PNG photo, to be predicted
    import numpy as np
    write_mask(images / "beach.png", np.ones((40, 48), np.uint8))  # the user's mask beside beach.jpg
    return model, images


def test_predict_into_image_folder_is_refused(setup, capsys):
    model, images = setup
    before = checksums(images, model)
    assert main(["predict", str(model), str(images), str(images), "--device", "cpu"]) == 1
    assert "is the image folder" in error_line(capsys.readouterr().err)
    assert checksums(images, model) == before


def test_predict_over_existing_masks_is_refused(setup, tmp_path, capsys):
    model, images = setup
    out = tmp_path / "out"
    import numpy as np
    out.mkdir()
    write_mask(out / "street.png", np.full((40, 48), 2, np.uint8))  # a refined mask of the user
    before = checksums(images, model, out)
    assert main(["predict", str(model), str(images), str(out), "--device", "cpu"]) == 1
    line = error_line(capsys.readouterr().err)
    assert "street.png" in line and "--overwrite" in line
    assert checksums(images, model, out) == before


def test_overwrite_never_replaces_an_input_image(setup, capsys):
    model, images = setup
    before = checksums(images)
    assert main(["predict", str(model), str(images), str(images), "--device", "cpu", "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "skipped street.png" in err and "Traceback" not in err
    after = checksums(images)
    assert after[str(images / "street.png")] == before[str(images / "street.png")]  # the photo
    assert after[str(images / "beach.jpg")] == before[str(images / "beach.jpg")]
    assert read_mask(images / "beach.png").shape == (40, 48)  # replaced by choice, by a prediction


def test_fresh_folder_and_unreadable_image(setup, tmp_path, capsys):
    model, images = setup
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    before = checksums(images, model)
    out = tmp_path / "fresh"
    assert main(["predict", str(model), str(images), str(out), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["beach.png", "street.png"]
    assert checksums(images, model) == before


@pytest.mark.parametrize("option, message", [
    (["--tile", "0"], "--tile"), (["--tile", "-64"], "--tile"), (["--mode", "slide", "--tile", "-1"], "--tile"),
])
def test_bad_tile_is_one_line(setup, tmp_path, capsys, option, message):
    model, images = setup
    assert main(["predict", str(model), str(images), str(tmp_path / "o"), "--device", "cpu", *option]) == 1
    assert message in error_line(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_cuda_without_gpu_is_one_line(setup, tmp_path, capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    model, images = setup
    assert main(["predict", str(model), str(images), str(tmp_path / "o"), "--device", "cuda"]) == 1
    assert "cuda" in error_line(capsys.readouterr().err).lower()
