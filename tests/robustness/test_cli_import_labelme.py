"""``segstudio-cli import-labelme`` into an existing project keeps its masks and its class order."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from segstudio.cli.main import main
from segstudio.core.masks import read_mask, write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, photo  # noqa: E402


def labelme(path: Path, image: str, labels: list[str]) -> None:
    shapes = [{"label": name, "points": [[2 * i, 0], [2 * i + 3, 9]], "shape_type": "rectangle",
               "flags": {}, "group_id": None} for i, name in enumerate(labels)]
    path.write_text(json.dumps({"version": "5.0.1", "flags": {}, "shapes": shapes, "imagePath": image,
                                "imageData": None, "imageHeight": 10, "imageWidth": 12}))


def make(tmp_path):
    src, project = tmp_path / "src", tmp_path / "project"
    for stem in ("a", "c"):
        photo(src / f"{stem}.jpg", size=(10, 12))
    labelme(src / "a.json", "a.jpg", ["cat"])
    labelme(src / "c.json", "c.jpg", ["cat", "bird"])
    project.mkdir()
    (project / "classes.txt").write_text("background\ndog\ncat\n")
    refined = np.zeros((10, 12), np.uint8)
    refined[5:, :] = 1  # the user's refined "dog" mask for a.jpg
    write_mask(project / "a.png", refined)
    write_mask(project / "b.png", np.full((10, 12), 2, np.uint8))  # a mask the import does not cover
    (tmp_path / "labels.txt").write_text("__ignore__\n_background_\ncat\ndog\n")  # labelme's order
    return src, project


def test_existing_masks_and_class_order_are_kept(tmp_path, capsys):
    src, project = make(tmp_path)
    kept = checksums(project / "a.png", project / "b.png")
    status = main(["import-labelme", str(src), str(project), "--classes", str(tmp_path / "labels.txt")])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert f"kept {project / 'a.png'}" in captured.err and "Traceback" not in captured.err
    assert checksums(project / "a.png", project / "b.png") == kept
    assert (project / "classes.txt").read_text().splitlines() == ["background", "dog", "cat", "bird"]
    c = read_mask(project / "c.png")
    assert c[0, 0] == 2 and c[0, 3] == 3  # cat and bird by name onto the project's indices


def test_overwrite_replaces_only_what_it_imports(tmp_path, capsys):
    src, project = make(tmp_path)
    b = checksums(project / "b.png")
    assert main(["import-labelme", str(src), str(project), "--overwrite"]) == 0
    a = read_mask(project / "a.png")
    assert a[0, 0] == 2 and a[9, 11] == 0  # the JSON's cat, at the project's index of cat
    assert checksums(project / "b.png") == b
    assert (project / "classes.txt").read_text().splitlines() == ["background", "dog", "cat", "bird"]


def test_unchanged_classes_file_is_not_rewritten(tmp_path, capsys):
    src, project = make(tmp_path)
    (src / "c.json").unlink()
    before = checksums(project)
    assert main(["import-labelme", str(src), str(project)]) == 0
    assert checksums(project) == before  # a.png kept, classes.txt has every label already


def test_broken_json_is_named_and_the_rest_imported(tmp_path, capsys):
    src, project = make(tmp_path)
    (src / "broken.json").write_text("{ not json")
    assert main(["import-labelme", str(src), str(project)]) == 1
    err = capsys.readouterr().err
    assert "broken.json" in err and "Traceback" not in err
    assert (project / "c.png").is_file()
