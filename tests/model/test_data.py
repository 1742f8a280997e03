"""Project -> dataset: split rules, ImageSets lists, bad files named, collate of mixed sizes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from segstudio.core.errors import MaskError, TrainingError
from segstudio.core.project import Project
from segstudio.model.data.dataset import EpochSampler, SegmentationDataset, pad_collate, split_entries

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_synth import make_project  # noqa: E402


def test_split_is_seeded_disjoint_and_keeps_a_val_image(tmp_path):
    project = Project(*make_project(tmp_path, count=6))
    a, b = split_entries(project, 0.2, seed=1), split_entries(project, 0.2, seed=1)
    assert [e.stem for e in a.val] == [e.stem for e in b.val]
    assert len(a.val) == 1 and len(a.train) == 5
    assert not {e.stem for e in a.train} & {e.stem for e in a.val}


def test_single_image_trains_and_validates_on_it(tmp_path):
    project = Project(*make_project(tmp_path, count=1))
    split = split_entries(project)
    assert split.train == split.val and "only one labelled image" in split.notes[0]


def test_imagesets_lists_win(tmp_path):
    image_dir, save_dir = make_project(tmp_path, count=5)
    lists = save_dir / "ImageSets" / "Segmentation"
    lists.mkdir(parents=True)
    (lists / "train.txt").write_text("img_000\nimg_001\nimg_002\n")
    (lists / "val.txt").write_text("img_004\nmissing\n")
    split = split_entries(Project(image_dir, save_dir))
    assert [e.stem for e in split.train] == ["img_000", "img_001", "img_002"]
    assert [e.stem for e in split.val] == ["img_004"]


def test_no_labelled_images(tmp_path):
    image_dir, save_dir = make_project(tmp_path, count=2)
    for mask in save_dir.glob("*.png"):
        mask.unlink()
    with pytest.raises(TrainingError):
        split_entries(Project(image_dir, save_dir))


def test_bad_mask_is_named(tmp_path):
    image_dir, save_dir = make_project(tmp_path, count=2)
    from segstudio.core.masks import write_mask
    write_mask(save_dir / "img_001.png", np.full((64, 64), 9, np.uint8))  # class 9 does not exist
    project = Project(image_dir, save_dir)
    ds = SegmentationDataset(project, project.labelled_entries(), 64, train=True)
    ds[0]
    with pytest.raises(MaskError, match="img_001"):
        ds[1]


def test_dataset_deterministic_per_epoch(tmp_path):
    project = Project(*make_project(tmp_path, count=2))
    ds = SegmentationDataset(project, project.labelled_entries(), 64, train=True, seed=5)
    ds.set_epoch(3)
    a = ds[0]
    ds.set_epoch(4)
    b = ds[0]
    ds.set_epoch(3)
    c = ds[0]
    assert torch.equal(a[0], c[0]) and not torch.equal(a[0], b[0])
    assert a[0].shape == (3, 64, 64) and a[1].dtype == torch.uint8


def test_sampler_and_collate():
    s = EpochSampler(10, seed=1)
    s.set_epoch(0)
    first = list(s)
    s.set_epoch(1)
    assert sorted(first) == list(range(10)) and list(s) != first
    images, labels = pad_collate([(torch.ones(3, 32, 64), torch.ones(32, 64, dtype=torch.uint8)),
                                  (torch.ones(3, 64, 32), torch.zeros(64, 32, dtype=torch.uint8))])
    assert images.shape == (2, 3, 64, 64) and labels.shape == (2, 64, 64)
    assert labels[0, 40:].eq(255).all() and images[0, :, 40:].eq(0).all()
