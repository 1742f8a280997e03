"""Tools > Delete the stored click-to-segment embeddings: asks first, deletes only the store's own
files, leaves them when the user says no, and is refused in a read-only window."""

from __future__ import annotations

import numpy as np

from segstudio.core.assist.embedding_store import FOLDER, EmbeddingStore, StoredEmbedding


def _stored(project_dir, count: int = 2):
    store = EmbeddingStore(project_dir, lambda: True)
    for index in range(count):
        store.save(f"c{index}", "m", StoredEmbedding(6, 8, [np.zeros((1, 4, 16, 16), np.float32)]))
    folder = project_dir / ".segstudio" / FOLDER
    (folder / "keep.txt").write_text("not an embedding")
    return folder


def test_deleting_asks_first_and_removes_only_the_embeddings(window, project_dir, fake_dialogs) -> None:
    folder = _stored(project_dir)
    fake_dialogs.confirm_answer = False
    window.actions["segment_clear"].trigger()
    assert fake_dialogs.names() == ["confirm"] and "the 2 stored image embeddings (" in fake_dialogs.calls[0][1][2]
    assert len(list(folder.glob("*.emb"))) == 2  # the user said no
    fake_dialogs.confirm_answer = True
    window.actions["segment_clear"].trigger()
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    assert window.statusBar().currentMessage().startswith("Deleted 2 stored embeddings,")
    window.actions["segment_clear"].trigger()  # nothing left: nothing asked
    assert fake_dialogs.names() == ["confirm", "confirm"]
    assert window.statusBar().currentMessage().startswith("No stored embeddings")


def test_a_read_only_window_refuses_without_asking(window, project_dir, fake_dialogs, monkeypatch) -> None:
    folder = _stored(project_dir)
    monkeypatch.setattr(type(window.session), "read_only", property(lambda self: "another window has it open"))
    window.actions["segment_clear"].trigger()
    assert fake_dialogs.names() == ["error"] and "read-only" in fake_dialogs.calls[0][1][2]
    assert len(list(folder.glob("*.emb"))) == 2


def test_a_preparation_in_progress_is_stopped_before_deleting(window, project_dir, fake_dialogs) -> None:
    _stored(project_dir, 1)
    prepare = window.assist_features.prepare
    prepare.folder.start([])  # an empty run finishes at once; a running one is cancelled
    prepare.folder.progress.finished = False
    window.actions["segment_clear"].trigger()
    assert prepare.folder.progress.cancelled


def test_one_embedding_is_named_in_the_singular(window, project_dir, fake_dialogs) -> None:
    _stored(project_dir, count=1)
    fake_dialogs.confirm_answer = True
    window.actions["segment_clear"].trigger()
    assert "the 1 stored image embedding (" in fake_dialogs.calls[0][1][2]
    assert window.statusBar().currentMessage().startswith("Deleted 1 stored embedding,")
