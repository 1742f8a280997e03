"""Windows and macOS start DataLoader workers by spawning a fresh interpreter, which receives the
dataset and the collate function through pickle (Linux forks and never pickles them): what the
streaming path hands its workers must survive a round trip, and give the same samples."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import torch

from segstudio.application.training.train_snapshot import take_snapshot
from segstudio.core.project import Project
from segstudio.model.data.augment import AugmentConfig
from segstudio.model.data.dataset import SegmentationDataset, pad_collate

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def test_the_streaming_dataset_survives_a_spawned_worker(tmp_path):
    shutil.copytree(DEMO, tmp_path / "demo")
    snapshot = take_snapshot(Project(tmp_path / "demo"))  # what a training run streams from
    try:
        dataset = SegmentationDataset(snapshot, snapshot.labelled_entries(), 64, True, 3, AugmentConfig(size=64))
        copy = pickle.loads(pickle.dumps(dataset))
        assert len(copy) == len(dataset) > 0
        for mine, theirs in zip(dataset[0], copy[0]):
            assert torch.equal(mine, theirs)  # same image, same augmentation (seeded by index)
        assert pickle.loads(pickle.dumps(pad_collate)) is pad_collate
    finally:
        snapshot.cleanup()
