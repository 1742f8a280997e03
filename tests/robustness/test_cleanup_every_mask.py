""""Clean up every mask of the project" rewrites only masks the project loads and the user may
replace: a mask of another size than its image, one with values that are not classes, a read-only
one are each named in the report and left byte for byte as they were (no backup made of them)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np

from segstudio.application.mask_cleanup import clean_project
from segstudio.core.masks import read_mask, write_mask
from segstudio.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_helpers import checksums, photo  # noqa: E402

SIZE = (20, 24)


def speckled(value: int = 1, size=SIZE) -> np.ndarray:
    label = np.zeros(size, np.uint8)
    label[2:12, 2:12] = value
    label[17, 20] = value  # a one-pixel island the clean-up removes
    return label


def make(tmp_path: Path) -> tuple[Project, dict[str, Path]]:
    images, folder = tmp_path / "images", tmp_path / "labels"
    for stem in ("good", "wrong_size", "unknown_values", "read_only"):
        photo(images / f"{stem}.jpg", size=SIZE)
    folder.mkdir()
    (folder / "classes.txt").write_text("background\ncat\n")
    masks = {stem: folder / f"{stem}.png" for stem in ("good", "wrong_size", "unknown_values", "read_only")}
    write_mask(masks["good"], speckled())
    write_mask(masks["wrong_size"], speckled(size=(SIZE[0] + 4, SIZE[1])))
    write_mask(masks["unknown_values"], speckled(value=9))
    write_mask(masks["read_only"], speckled())
    os.chmod(masks["read_only"], 0o444)
    return Project(images, folder), masks


def test_clean_every_mask_names_and_keeps_the_masks_it_must_not_rewrite(tmp_path) -> None:
    project, masks = make(tmp_path)
    assert len(project.labelled_entries()) == 4
    kept = {stem: path for stem, path in masks.items() if stem != "good"}
    before = checksums(*kept.values())
    report, backups = clean_project(project, "islands", 5)
    assert report.written == [masks["good"]] and read_mask(masks["good"])[17, 20] == 0
    assert checksums(*kept.values()) == before
    assert stat.S_IMODE(os.stat(masks["read_only"]).st_mode) == 0o444
    assert len(report.errors) == 2, report.errors
    assert any("wrong_size.png" in e and "24×24" in e for e in report.errors)  # its size named
    assert any("unknown_values.png" in e and "9" in e for e in report.errors)  # the value named
    assert any("read_only.png" in s and "read-only" in s for s in report.skipped)
    assert sorted(p.name for p in backups.iterdir()) == ["good.png"]


def test_a_mask_replaced_by_a_folder_while_the_clean_up_runs_is_named(tmp_path) -> None:
    project, masks = make(tmp_path)

    def replace_good(done: int, total: int) -> None:
        if done == 0:  # the masks are listed: "good.png" becomes a folder before it is read
            masks["good"].unlink()
            masks["good"].mkdir()

    report, _ = clean_project(project, "holes", 0, on_progress=replace_good)
    assert any("good.png is no longer a mask file" in e for e in report.errors), report.errors
    assert masks["good"].is_dir()
