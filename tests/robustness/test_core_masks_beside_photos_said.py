"""A PNG beside its same-stem photo that was meant as its mask but is not taken for one (the wrong
size, colours that are not class colours) is said by name, with the reason, wherever the image then
drops out: the project's listing, ``train`` and ``export``. A VOC-coloured RGB mask of the photo's size,
which the README says is read, is its mask. A mask that is a pipe is refused, not read."""

from __future__ import annotations

import os

import numpy as np
import pytest
from cli_helpers import checksums, tiny_model
from core_hostile import call_with_timeout
from PIL import Image

from segstudio.cli.main import main
from segstudio.core.errors import MaskError
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.palette import voc_palette
from segstudio.core.project import Project

W, H = 32, 24


def photo(path, seed=0):
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path)


def folder_with(tmp_path, second_png) -> tuple:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "classes.txt").write_text("background\ncat\ndog\n")
    photo(folder / "good.jpg", 1)
    label = np.zeros((H, W), np.uint8)
    label[4:12, 4:20] = 1
    write_mask(folder / "good.png", label)
    photo(folder / "odd.jpg", 2)
    second_png(folder / "odd.png", label)
    return folder, label


def voc_rgb(path, label):
    Image.fromarray(voc_palette()[label]).save(path)


def wrong_size(path, label):
    write_mask(path, np.zeros((H // 2, W // 2), np.uint8))


def test_a_voc_coloured_rgb_mask_beside_its_photo_is_its_mask(tmp_path):
    folder, label = folder_with(tmp_path, voc_rgb)
    project = Project(folder, read_only=True)
    assert [e.image_path.name for e in project.entries] == ["good.jpg", "odd.jpg"]
    assert project.listing_warnings == []
    assert np.array_equal(project.load_mask(project.entries[1]), label)


def test_a_wrong_size_mask_beside_its_photo_is_said_by_name_in_train_and_export(tmp_path, capsys):
    folder, _ = folder_with(tmp_path, wrong_size)
    project = Project(folder, read_only=True)
    assert [e.image_path.name for e in project.entries] == ["good.jpg", "odd.jpg", "odd.png"]
    (warning,) = project.listing_warnings
    assert "odd.png is not taken for the mask of odd.jpg" in warning and "16×12 pixels, not the 32×24" in warning
    before = checksums(folder)
    status = main(["export", "voc", str(folder), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 0 and "odd.png is not taken for the mask of odd.jpg" in err
    model = tiny_model(tmp_path / "init", names=("background", "cat", "dog"))
    status = main(["train", str(folder), "--images", str(folder), "--model", str(model), "--size", "32",
                   "--batch", "1", "--steps", "1", "--workers", "0", "--device", "cpu", "--out", "run"])
    err = capsys.readouterr().err
    assert status == 0 and "odd.png is not taken for the mask of odd.jpg" in err, err
    assert {k: v for k, v in checksums(folder).items() if "/models/" not in k} == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_mask_that_is_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "a.png"
    os.mkfifo(fifo)
    kind, outcome = call_with_timeout(lambda: read_mask(fifo), fifo)
    assert kind == "error" and isinstance(outcome, MaskError) and "pipe" in str(outcome)
