"""Two photos with one stem (``beach.jpg``, ``beach.png``): a file is a mask only if it looks like one.

The PNG photo must be listed as an image, never taken for the JPEG's mask, and never written over:
not by the project's save, not by ``segstudio-cli predict`` into the image folder, not by a labelme
import. Real masks beside their photos are still recognised and still saved over.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from core_hostile import call_with_timeout, checksums  # noqa: E402

from segstudio.cli.main import main as cli_main  # noqa: E402
from segstudio.core.errors import SaveError  # noqa: E402
from segstudio.core.images import list_images, mask_file_problem, without_masks  # noqa: E402
from segstudio.core.masks import read_mask, write_mask  # noqa: E402
from segstudio.core.project import Project  # noqa: E402

SIZE = (8, 6)  # width, height


def _photo(path: Path, size=SIZE, mode="RGB", seed=0) -> Path:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).convert(mode).save(path)
    return path


def _label(value: int = 1) -> np.ndarray:
    label = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    label[1:4, 2:6] = value
    return label


def _folder(tmp_path: Path) -> Path:
    """beach.jpg + beach.png (a photo), a.jpg + a.png (its mask), g.jpg + g.png (grey photo, other size)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    _photo(folder / "beach.jpg", seed=1)
    _photo(folder / "beach.png", seed=2)
    _photo(folder / "a.jpg", seed=3)
    write_mask(folder / "a.png", _label())
    _photo(folder / "g.jpg", seed=4)
    _photo(folder / "g.png", size=(5, 5), mode="L", seed=5)
    (folder / "classes.txt").write_text("background\ncat\n")
    return folder


def test_the_mask_rule_reads_headers_only_and_needs_one_channel_and_the_image_size(tmp_path) -> None:
    write_mask(tmp_path / "mask.png", _label())
    assert mask_file_problem(tmp_path / "mask.png", SIZE) is None
    assert mask_file_problem(_photo(tmp_path / "grey.png", mode="L"), SIZE) is None  # grayscale index mask
    assert "RGB" in mask_file_problem(_photo(tmp_path / "photo.png"), SIZE)
    assert "not the 8×6" in mask_file_problem(_photo(tmp_path / "small.png", (5, 5), "L"), SIZE)
    assert "JPEG" in mask_file_problem(_photo(tmp_path / "photo.jpg"), SIZE)
    assert "not a readable image" in mask_file_problem(tmp_path / "missing.png", SIZE)


def test_a_png_photo_beside_a_jpeg_of_the_same_stem_is_listed_as_an_image(tmp_path) -> None:
    folder = _folder(tmp_path)
    names = [p.name for p in without_masks(list_images(folder))]
    assert names == ["a.jpg", "beach.jpg", "beach.png", "g.jpg", "g.png"]  # a.png is a.jpg's mask
    project = Project(folder)
    assert [e.image_path.name for e in project.entries] == names
    assert any("beach.png is not taken for the mask of beach.jpg: it is an RGB image with colours" in w
               for w in project.listing_warnings)
    labelled = {e.image_path.name for e in project.entries if project.is_labelled(e)}
    assert labelled == {"a.jpg"}  # beach.png is not beach.jpg's mask, even though it exists
    assert project.load_mask(project.entries[1]) is None


def test_saving_never_writes_over_a_photo_and_real_masks_still_save(tmp_path) -> None:
    folder = _folder(tmp_path)
    project = Project(folder)
    before = checksums(folder)
    by_name = {e.image_path.name: e for e in project.entries}
    for name, fragment in [("beach.jpg", "rename"), ("beach.png", "rename"), ("g.jpg", "rename"),
                           ("g.png", "rename")]:
        with pytest.raises(SaveError, match=fragment) as caught:
            project.save(by_name[name], _label())
        assert name in str(caught.value) and "\n" not in str(caught.value)
    assert checksums(folder) == before  # nothing written, nothing replaced
    project.save(by_name["a.jpg"], _label(0))  # a real mask beside its photo is still saved over
    np.testing.assert_array_equal(read_mask(folder / "a.png"), _label(0))
    after = checksums(folder)
    assert {k for k in after if after[k] != before.get(k)} == {"a.png", "a.xml"}


def test_a_lone_png_photo_cannot_become_its_own_mask(tmp_path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    _photo(folder / "solo.png")
    project = Project(folder)
    before = checksums(folder)
    with pytest.raises(SaveError, match="overwrite the image itself; choose a different save folder"):
        project.save(project.entries[0], _label())
    assert checksums(folder) == before


def test_a_separate_save_folder_gives_two_same_stem_photos_no_shared_mask(tmp_path) -> None:
    folder, out = _folder(tmp_path), tmp_path / "out"
    project = Project(folder, out)
    by_name = {e.image_path.name: e for e in project.entries}
    assert "a.png" not in by_name  # a mask beside its photo is no image, whatever the save folder
    before = checksums(folder)
    project.save(by_name["a.jpg"], _label(0))
    np.testing.assert_array_equal(read_mask(out / "a.png"), _label(0))
    assert checksums(folder) == before  # the mask beside the photo is not the save folder's
    with pytest.raises(SaveError, match="beach.png has the same name"):
        project.save(by_name["beach.jpg"], _label())
    with pytest.raises(SaveError, match="beach.jpg has the same name"):
        project.save(by_name["beach.png"], _label())
    assert not (out / "beach.png").exists()


@pytest.mark.parametrize("occupant", ["rgb photo", "grey photo of another size", "folder", "fifo"])
def test_write_mask_refuses_to_replace_what_is_not_a_mask(tmp_path, occupant) -> None:
    target = tmp_path / "beach.png"
    if occupant == "rgb photo":
        _photo(target)
    elif occupant == "grey photo of another size":
        _photo(target, (5, 5), "L")
    elif occupant == "folder":
        target.mkdir()
        (target / "inside.txt").write_text("kept")
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("FIFOs are POSIX")
        os.mkfifo(target)
    before = checksums(tmp_path)
    kind, error = call_with_timeout(lambda: write_mask(target, _label()), fifo=target)
    assert kind == "error" and isinstance(error, SaveError), error
    assert str(target) in str(error) and "does not write a mask over it" in str(error)
    assert checksums(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_write_mask_replaces_the_masks_it_reads(tmp_path) -> None:
    """Masks in every format read_mask accepts, of the same size, may be saved over."""
    voc = np.array([[0, 0, 0], [128, 0, 0]], np.uint8)[_label()]
    Image.fromarray(voc, "RGB").save(tmp_path / "colour.png")
    Image.fromarray(_label().astype(np.uint16) * 1).save(tmp_path / "sixteen.png")
    write_mask(tmp_path / "palette.png", _label())
    _photo(tmp_path / "grey.png", mode="L")
    for name in ("colour.png", "sixteen.png", "palette.png", "grey.png", "new.png"):
        write_mask(tmp_path / name, _label(0))
        np.testing.assert_array_equal(read_mask(tmp_path / name), _label(0))


def test_predict_into_the_image_folder_leaves_the_png_photo_alone(tmp_path, capsys) -> None:
    """segstudio-cli predict MODEL DIR DIR: beach.jpg's prediction may not replace beach.png."""
    torch = pytest.importorskip("torch")
    from segstudio.model.segformer import SegFormer, SegFormerConfig
    from segstudio.model.weights.checkpoints import ModelInfo, save_model

    torch.manual_seed(0)
    config = SegFormerConfig(hidden_sizes=(16, 32, 48, 64), depths=(1, 1, 1, 1), num_heads=(1, 2, 3, 4),
                             decoder_hidden_size=32, num_labels=2)
    save_model(tmp_path / "model", SegFormer(config).eval(),
               ModelInfo(variant=None, class_names=["bg", "cat"], image_size=32))
    folder = tmp_path / "photos"
    folder.mkdir()
    _photo(folder / "beach.jpg", seed=1)
    _photo(folder / "beach.png", seed=2)
    before = checksums(folder)
    status = cli_main(["predict", str(tmp_path / "model"), str(folder), str(folder), "--device", "cpu"])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err and "image folder" in err  # refused as a whole
    assert checksums(folder) == before
    status = cli_main(["predict", str(tmp_path / "model"), str(folder), str(folder), "--device", "cpu",
                       "--overwrite"])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err and "beach.png" in err  # even then, not the photo
    assert checksums(folder)["beach.png"] == before["beach.png"]
    with Image.open(folder / "beach.png") as image:
        assert image.mode == "RGB"


def test_labelme_import_into_the_photo_folder_keeps_the_png_photo(tmp_path, capsys) -> None:
    import json

    folder = tmp_path / "photos"
    folder.mkdir()
    _photo(folder / "beach.jpg", seed=1)
    _photo(folder / "beach.png", seed=2)
    _photo(folder / "sea.jpg", seed=3)
    square = {"label": "cat", "shape_type": "rectangle", "points": [[0, 0], [3, 3]]}
    for stem in ("beach", "sea"):
        (folder / f"{stem}.json").write_text(json.dumps({"shapes": [square], "imagePath": f"{stem}.jpg"}))
    before = checksums(folder)
    status = cli_main(["import-labelme", str(folder), str(folder)])
    err = capsys.readouterr().err
    assert status == 0 and "kept" in err and "beach.png" in err  # an existing file is kept
    assert all(checksums(folder)[name] == digest for name, digest in before.items())
    status = cli_main(["import-labelme", str(folder), str(folder), "--overwrite"])
    err = capsys.readouterr().err
    assert status == 1 and "beach.png" in err and "Traceback" not in err  # a photo is no mask to replace
    after = checksums(folder)
    assert all(after[name] == digest for name, digest in before.items())
    assert read_mask(folder / "sea.png").shape == (SIZE[1], SIZE[0])  # the batch went on


def test_two_images_with_one_stem_in_one_labelme_import_do_not_share_a_mask(tmp_path) -> None:
    import json

    from segstudio.core.labelme import import_labelme_folder

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _photo(src / "beach.jpg", seed=1)
    _photo(src / "beach.png", seed=2)
    square = {"label": "cat", "shape_type": "rectangle", "points": [[0, 0], [3, 3]]}
    (src / "one.json").write_text(json.dumps({"shapes": [square], "imagePath": "beach.jpg"}))
    (src / "two.json").write_text(json.dumps({"shapes": [], "imagePath": "beach.png"}))
    report = import_labelme_folder(src, out)
    assert [p.name for p in report.masks] == ["beach.png"]
    assert len(report.errors) == 1 and "two.json" in report.errors[0] and "rename" in report.errors[0]
    assert read_mask(out / "beach.png").max() == 1  # the first import's mask, not replaced
