"""application.recovery_store: which recovery copy is offered, which is removed, and never in read-only."""

from __future__ import annotations

import os
import time

import numpy as np

from segstudio.application.session.recovery_store import RecoveryStore
from segstudio.core.classes import ClassList
from segstudio.core.masks import write_mask

COLOURS = ClassList(["background", "cat", "dog", "tree"]).colour_table()


def _copy(store: RecoveryStore, stem: str = "img1", shape=(6, 8)) -> np.ndarray:
    label = np.zeros(shape, np.uint8)
    label[1:3, 2:5] = 2
    store.write(stem, label, COLOURS)
    return label


def test_a_copy_newer_than_the_mask_is_offered(tmp_path):
    store = RecoveryStore(tmp_path)
    label = _copy(store)
    offered = store.to_offer("img1", tmp_path / "img1.png", None, (6, 8))
    np.testing.assert_array_equal(offered, label)
    assert store.path("img1").exists()  # kept until the user answers


def test_a_copy_older_than_the_mask_is_stale_and_removed(tmp_path):
    store = RecoveryStore(tmp_path)
    _copy(store)
    past = time.time() - 100
    os.utime(store.path("img1"), (past, past))
    write_mask(tmp_path / "img1.png", np.zeros((6, 8), np.uint8), COLOURS)
    assert store.to_offer("img1", tmp_path / "img1.png", None, (6, 8)) is None
    assert not store.path("img1").exists()
    assert (tmp_path / "img1.png").exists()  # the mask itself is never touched


def test_a_copy_of_another_size_is_removed(tmp_path):
    store = RecoveryStore(tmp_path)
    _copy(store, shape=(5, 5))
    assert store.to_offer("img1", tmp_path / "img1.png", None, (6, 8)) is None
    assert not store.path("img1").exists()


def test_a_file_that_is_not_our_copy_is_never_read_or_deleted(tmp_path):
    store = RecoveryStore(tmp_path)
    store.path("img1").parent.mkdir()
    store.path("img1").write_bytes(b"user notes, not a PNG")
    assert store.to_offer("img1", tmp_path / "img1.png", None, (6, 8)) is None
    store.remove("img1")
    assert store.path("img1").read_bytes() == b"user notes, not a PNG"


def test_read_only_never_offers_nor_removes(tmp_path):
    _copy(RecoveryStore(tmp_path))
    store = RecoveryStore(tmp_path, read_only=True)
    assert store.to_offer("img1", tmp_path / "img1.png", None, (6, 8)) is None
    store.remove("img1")
    assert store.path("img1").exists()  # it may be the other window's unsaved work


def test_the_label_read_by_the_loader_is_used(tmp_path):
    store = RecoveryStore(tmp_path)
    _copy(store)
    found = np.full((6, 8), 3, np.uint8)
    np.testing.assert_array_equal(store.to_offer("img1", tmp_path / "img1.png", found, (6, 8)), found)
