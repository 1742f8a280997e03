"""The on-disk SAM embedding store: round trip keyed by content and model, LRU under the budget,
hostile or truncated files ignored, nothing written for a read-only project, never through a link."""

from __future__ import annotations

import os

import numpy as np
import pytest

from segstudio.core.assist.embedding_store import FOLDER, EmbeddingStore, StoredEmbedding, encode, file_name


def _embedding(seed: int = 0, size: int = 16) -> StoredEmbedding:
    rng = np.random.default_rng(seed)
    return StoredEmbedding(30, 40, [rng.standard_normal((1, 4, size, size)).astype(np.float32),
                                    rng.standard_normal((1, 2, 8, 8)).astype(np.float32)])


def _folder(tmp_path):
    return tmp_path / ".segstudio" / FOLDER


def test_round_trip_is_keyed_by_content_and_model(tmp_path) -> None:
    store = EmbeddingStore(tmp_path, lambda: True)
    stored = _embedding()
    assert store.save("content-a", "model-1", stored)
    back = store.load("content-a", "model-1")
    assert back is not None and (back.height, back.width) == (30, 40)
    assert all(np.array_equal(a, b) for a, b in zip(back.arrays, stored.arrays, strict=True))
    assert store.load("content-b", "model-1") is None  # another image
    assert store.load("content-a", "model-2") is None  # another model
    assert store.has("content-a", "model-1") and not store.has("content-a", "model-2")


def test_least_recently_used_files_go_first_within_the_budget(tmp_path) -> None:
    one = len(encode(_embedding()))
    store = EmbeddingStore(tmp_path, lambda: True, budget=3 * one)
    for index in range(3):
        store.save(f"c{index}", "m", _embedding(index))
        path = _folder(tmp_path) / file_name(f"c{index}", "m")
        os.utime(path, (1000 + index, 1000 + index))
    assert store.load("c0", "m") is not None  # c0 is now the most recently used: c1 is the oldest
    store.save("c3", "m", _embedding(3))
    kept = {name for name in ("c0", "c1", "c2", "c3") if store.has(name, "m")}
    assert kept == {"c0", "c2", "c3"}
    assert sum(p.stat().st_size for p in _folder(tmp_path).iterdir()) <= 3 * one


@pytest.mark.parametrize("damage", ["truncate", "garbage", "huge_shape", "bad_dtype", "extra"])
def test_hostile_or_truncated_file_is_ignored_with_one_line(tmp_path, caplog, damage) -> None:
    store = EmbeddingStore(tmp_path, lambda: True)
    store.save("c", "m", _embedding())
    path = _folder(tmp_path) / file_name("c", "m")
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = os.urandom(200)
    elif damage == "huge_shape":
        data = data.replace(b"[1, 4, 16, 16]", b"[9999, 9999, 9]")
    elif damage == "bad_dtype":
        data = data.replace(b"<f4", b"|O8", 1)
    else:
        data = data + b"x"
    path.write_bytes(data)
    assert store.load("c", "m") is None
    assert len([r for r in caplog.records if "ignored a stored image embedding" in r.message]) == 1


def test_read_only_project_never_writes(tmp_path) -> None:
    writable = [True]
    store = EmbeddingStore(tmp_path, lambda: writable[0])
    store.save("c", "m", _embedding())
    path = _folder(tmp_path) / file_name("c", "m")
    os.utime(path, (1000, 1000))
    writable[0] = False
    assert not store.save("d", "m", _embedding(1))
    assert store.load("c", "m") is not None  # read, but not touched
    assert path.stat().st_mtime == 1000 and not store.has("d", "m")
    assert not EmbeddingStore(tmp_path / "other", lambda: False).save("c", "m", _embedding())
    assert not (tmp_path / "other").exists()


def test_a_linked_folder_is_never_written_through(tmp_path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "project" / ".segstudio").mkdir(parents=True)
    (tmp_path / "project" / ".segstudio" / FOLDER).symlink_to(target)
    store = EmbeddingStore(tmp_path / "project", lambda: True)
    assert not store.save("c", "m", _embedding())
    assert list(target.iterdir()) == []


def test_an_oversized_file_is_not_read(tmp_path, monkeypatch, caplog) -> None:
    from segstudio.core.assist import embedding_store

    store = EmbeddingStore(tmp_path, lambda: True)
    store.save("c", "m", _embedding())
    monkeypatch.setattr(embedding_store, "MAX_FILE_BYTES", 100)
    assert store.load("c", "m") is None and "larger than" in caplog.text


def test_clear_deletes_only_the_stored_embeddings_and_says_how_many(tmp_path) -> None:
    store = EmbeddingStore(tmp_path, lambda: True)
    assert store.usage() == (0, 0) and store.clear() == (0, 0)  # no folder yet
    for index in range(3):
        store.save(f"c{index}", "m", _embedding(index))
    one = len(encode(_embedding()))
    (_folder(tmp_path) / "notes.txt").write_text("the user's")
    (_folder(tmp_path) / "sub.emb").mkdir()  # a folder named like one: not a file, stays
    outside = tmp_path / "elsewhere.emb"
    outside.write_bytes(b"x")
    os.symlink(outside, _folder(tmp_path) / "link.emb")  # a link: neither it nor its target is deleted
    assert store.usage() == (3, 3 * one)
    assert store.clear() == (3, 3 * one)
    assert sorted(p.name for p in _folder(tmp_path).iterdir()) == ["link.emb", "notes.txt", "sub.emb"]
    assert outside.read_bytes() == b"x" and store.load("c0", "m") is None


def test_clear_is_refused_for_a_read_only_project_and_through_a_link(tmp_path) -> None:
    writable = [True]
    store = EmbeddingStore(tmp_path, lambda: writable[0])
    store.save("c", "m", _embedding())
    writable[0] = False
    with pytest.raises(PermissionError):
        store.clear()
    assert store.usage()[0] == 1
    target = tmp_path / "target"
    target.mkdir()
    (target / (file_name("c", "m"))).write_bytes(b"theirs")
    linked = EmbeddingStore(tmp_path / "p", lambda: True)
    (tmp_path / "p" / ".segstudio").mkdir(parents=True)
    os.symlink(target, tmp_path / "p" / ".segstudio" / FOLDER)
    from segstudio.core.errors import SegStudioError

    with pytest.raises(SegStudioError, match="link"):
        linked.clear()
    assert (target / file_name("c", "m")).read_bytes() == b"theirs"
