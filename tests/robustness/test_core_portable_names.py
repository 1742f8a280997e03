"""Names Windows or macOS would merge or refuse: images whose stems differ only by case (their masks
``Cat.png`` and ``cat.png`` are one file there) get no mask and are said by name in the listing,
``export`` and ``train``; names Windows reserves (``CON``, ``aux.png``) are said by name."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import checksums, tiny_model
from PIL import Image

from segstudio.cli.main import main
from segstudio.cli.predict import plan_outputs
from segstudio.core.errors import SaveError
from segstudio.core.masks import write_mask
from segstudio.core.portable_names import name_key, windows_name_problem
from segstudio.core.project import Project

W, H = 32, 24


def photo(path: Path, seed: int = 0) -> None:
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path)


def label(value: int = 1) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[4:12, 4:20] = value
    return mask


@pytest.mark.parametrize("name", ["CON.jpg", "con.png", "Nul.tar.jpg", "aux.PNG", "prn.jpeg", "COM1.jpg",
                                  "com9.png", "LPT1.bmp", "lpt0.jpg", "COM¹.jpg", "CON .jpg"])
def test_windows_device_names_are_reserved_whatever_the_case_and_extension(name):
    problem = windows_name_problem(name)
    assert problem is not None and "device name on Windows" in problem


@pytest.mark.parametrize("name", ["console.jpg", "COM10.jpg", "icon.png", "beach.jpg", "LPT.png", "nulls.jpg",
                                  "aux_1.png", "CONTRACT.jpg", "été.jpg"])
def test_ordinary_names_are_not_reserved(name):
    assert windows_name_problem(name) is None


@pytest.mark.parametrize(("name", "said"), [("a:b.jpg", "':'"), ("what?.png", "'?'"), ('say"hi".jpg', "'\"'"),
                                            ("tab\there.jpg", "'\\t'"), ("dot..", "at the end"),
                                            ("space.jpg ", "at the end")])
def test_characters_windows_refuses_are_named(name, said):
    problem = windows_name_problem(name)
    assert problem is not None and said in problem


def test_name_key_folds_case_and_unicode_forms():
    composed, decomposed = "caf\u00e9", unicodedata.normalize("NFD", "caf\u00e9")
    assert composed != decomposed and name_key(composed) == name_key(decomposed)
    assert name_key("Cat") == name_key("cat") == name_key("CAT")


def test_case_only_stems_get_no_mask_and_are_named(tmp_path):
    images, save = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    save.mkdir()
    (save / "classes.txt").write_text("background\ncat\n")
    for seed, name in enumerate(["Cat.jpg", "cat.jpg", "dog.jpg"]):
        photo(images / name, seed)
    write_mask(save / "Cat.png", label(1))  # made on Linux, where both can be
    write_mask(save / "cat.png", label(1))
    project = Project(images, save)
    by_name = {e.image_path.name: e for e in project.entries}
    assert sorted(by_name) == ["Cat.jpg", "cat.jpg", "dog.jpg"]  # both listed: nothing merged
    (warning,) = project.listing_warnings
    assert "Cat.jpg and cat.jpg" in warning and "differ only by upper and lower case" in warning
    assert "Cat.png and cat.png" in warning
    assert [e.image_path.name for e in project.labelled_entries()] == []
    before = checksums(save)
    for name in ("Cat.jpg", "cat.jpg"):
        with pytest.raises(SaveError, match="upper and lower case"):
            project.save(by_name[name], label())
    assert checksums(save) == before  # neither mask replaced
    project.save(by_name["dog.jpg"], label())
    assert project.is_labelled(project.entries[project.index_of(images / "dog.jpg")])


def test_same_stem_extensions_in_two_cases_share_the_mask_as_before(tmp_path):
    for seed, name in enumerate(["beach.JPG", "beach.jpg"]):
        photo(tmp_path / name, seed)
    project = Project(tmp_path, tmp_path / "out")
    (warning,) = project.listing_warnings
    assert "beach.JPG and beach.jpg share the mask beach.png" in warning
    assert all(e.mask_blocked and "has the same name" in e.mask_blocked for e in project.entries)


def test_a_mask_in_another_case_beside_its_photo_is_not_merged(tmp_path):
    """``Cat.png`` beside ``cat.jpg``: on Windows and macOS it is the file ``cat.png``; here it is
    listed as a photo, and both are named instead of one silently becoming the other's mask."""
    photo(tmp_path / "cat.jpg")
    write_mask(tmp_path / "Cat.png", label())
    project = Project(tmp_path, read_only=True)
    assert [e.image_path.name for e in project.entries] == ["cat.jpg", "Cat.png"]
    (warning,) = project.listing_warnings
    assert "cat.jpg and Cat.png" in warning and "differ only by upper and lower case" in warning
    assert project.labelled_entries() == []


def test_unicode_forms_of_one_name_collide(tmp_path):
    composed, decomposed = "caf\u00e9.jpg", unicodedata.normalize("NFD", "caf\u00e9") + ".jpg"
    photo(tmp_path / composed)
    photo(tmp_path / decomposed, 1)
    project = Project(tmp_path, tmp_path / "out")
    assert len(project.entries) == 2 and all(e.mask_blocked for e in project.entries)
    assert len(project.listing_warnings) == 1


def test_reserved_names_are_said_and_still_saved_here(tmp_path):
    (tmp_path / "classes.txt").write_text("background\ncat\n")
    for seed, name in enumerate(["CON.jpg", "aux.png", "beach.jpg"]):
        photo(tmp_path / name, seed)
    project = Project(tmp_path, tmp_path / "out")
    warnings = project.listing_warnings
    assert len(warnings) == 2
    assert any(w.startswith("CON.jpg: CON is a device name on Windows") and "CON.png" in w for w in warnings)
    assert any(w.startswith("aux.png: aux is a device name on Windows") for w in warnings)
    con = project.entries[project.index_of(tmp_path / "CON.jpg")]
    project.save(con, label())  # a warning, not a refusal: Linux and macOS hold the name
    assert project.is_labelled(con)


def test_case_collisions_are_said_by_export_and_train(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "classes.txt").write_text("background\ncat\ndog\n")
    for seed, name in enumerate(["good.jpg", "Cat.jpg", "cat.jpg"]):
        photo(folder / name, seed)
    good = label(1)
    good[14:20, 4:20] = 2
    write_mask(folder / "good.png", good)
    write_mask(folder / "Cat.png", label(1))
    write_mask(folder / "cat.png", label(2))
    said = "Cat.jpg and cat.jpg have names that differ only by upper and lower case"
    before = checksums(folder)
    assert main(["export", "voc", str(folder), str(tmp_path / "out")]) == 0
    assert said in capsys.readouterr().err
    model = tiny_model(tmp_path / "init", names=("background", "cat", "dog"))
    status = main(["train", str(folder), "--images", str(folder), "--model", str(model), "--size", "32",
                   "--batch", "1", "--steps", "1", "--workers", "0", "--device", "cpu", "--out", "run"])
    err = capsys.readouterr().err
    assert status == 0 and said in err, err
    assert {k: v for k, v in checksums(folder).items() if "/models/" not in k} == before


def test_predict_writes_one_mask_per_case_insensitive_name(tmp_path):
    images = [tmp_path / "Cat.jpg", tmp_path / "cat.jpg", tmp_path / "dog.jpg"]
    pairs, skipped = plan_outputs(images, tmp_path, tmp_path / "out", overwrite=False)
    assert [target.name for _, target in pairs] == ["Cat.png", "dog.png"]
    assert skipped == ["skipped cat.jpg: Cat.jpg already writes cat.png"]
