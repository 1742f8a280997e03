"""``segstudio-cli evaluate``: an unreadable file is skipped and named, the rest scored (exit 1);
model classes are matched to the project's by name, with a warning for those that do not match."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from segstudio.cli.main import main
from segstudio.core.masks import write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, photo, tiny_model  # noqa: E402


def test_folders_skip_broken_and_missing_masks(tmp_path, capsys):
    (tmp_path / "classes.txt").write_text("background\ncat\n")
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    for stem in ("a", "b", "c"):
        write_mask(tmp_path / "gt" / f"{stem}.png", np.array([[0, 1]], np.uint8))
    write_mask(tmp_path / "pred" / "a.png", np.array([[0, 1]], np.uint8))
    (tmp_path / "pred" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    before = checksums(tmp_path)
    status = main(["evaluate", str(tmp_path / "gt"), str(tmp_path / "pred"), "--classes",
                   str(tmp_path / "classes.txt"), "--json"])
    captured = capsys.readouterr()
    assert status == 1 and "Traceback" not in captured.err
    assert [line.split(":")[0] for line in captured.err.strip().splitlines()] == ["skipped b.png", "skipped c.png"]
    data = json.loads(captured.out)
    assert data["miou"] == 1.0
    assert checksums(tmp_path) == before


def test_model_classes_matched_by_name_and_unreadable_image_skipped(tmp_path, capsys):
    model = tiny_model(tmp_path / "model", names=("background", "cat", "dog", "fish"))
    (tmp_path / "classes.txt").write_text("background\ndog\ncat\nbird\n")
    photo(tmp_path / "images" / "a.jpg", size=(40, 48))
    (tmp_path / "images" / "b.jpg").write_bytes(b"\xff\xd8\xff broken")
    (tmp_path / "gt").mkdir()
    for stem in ("a", "b"):
        write_mask(tmp_path / "gt" / f"{stem}.png", np.ones((40, 48), np.uint8))
    before = checksums(tmp_path)
    status = main(["evaluate", str(tmp_path / "gt"), "--model", str(model), "--images", str(tmp_path / "images"),
                   "--classes", str(tmp_path / "classes.txt"), "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert status == 1 and "Traceback" not in captured.err
    assert "model class(es) fish not in the project's classes" in captured.err
    assert "project class(es) bird unknown to the model" in captured.err
    assert "skipped b.jpg" in captured.err
    data = json.loads(captured.out)
    assert data["classes"][3]["name"] == "bird" and data["images"] == 1  # the rest was scored, and counted
    assert checksums(tmp_path) == before


def test_class_mapping_by_name_and_index_fallback():
    from segstudio.core.class_mapping import map_model_classes
    mapping = map_model_classes(["background", "cat", "dog"], ["_background_", "dog", "cat"])
    lut, warnings = mapping.lut, mapping.warnings
    assert lut[1] == 2 and lut[2] == 1 and lut[255] == 255 and warnings == []
    mapping = map_model_classes(["background", "class_1", "class_2"], ["background", "dog", "cat"])
    lut, warnings = mapping.lut, mapping.warnings
    assert lut[1] == 1 and lut[2] == 2 and "compared by index" in warnings[0]


def test_the_projects_class_aliases_apply_to_evaluate_model(tmp_path, capsys):
    """The window's Map model classes writes aliases into the save folder; evaluate reads them."""
    model = tiny_model(tmp_path / "model", names=("background", "cat", "dog", "fish"))
    (tmp_path / "classes.txt").write_text("background\ndog\ncat\nbird\n")
    photo(tmp_path / "images" / "a.jpg", size=(40, 48))
    (tmp_path / "gt" / ".segstudio").mkdir(parents=True)
    write_mask(tmp_path / "gt" / "a.png", np.ones((40, 48), np.uint8))
    args = ["evaluate", str(tmp_path / "gt"), "--model", str(model), "--images", str(tmp_path / "images"),
            "--classes", str(tmp_path / "classes.txt"), "--device", "cpu", "--json"]
    main(args)
    before = capsys.readouterr()
    (tmp_path / "gt" / ".segstudio" / "project.json").write_text(json.dumps({"class_aliases": {"fish": "bird"}}))
    main(args)
    after = capsys.readouterr()
    assert "fish not in the project's classes" in before.err and "bird unknown to the model" in before.err
    assert "fish" not in after.err and "bird" not in after.err  # fish now counts as bird
    assert json.loads(before.out)["classes"][3]["pred_pixels"] == 0
