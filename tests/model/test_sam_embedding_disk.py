"""PromptableSegmenter with the project's embedding store: an embedding written once is read back by
a fresh segmenter (no encoder run, the same masks); ``prepare`` fills the store without the memory
cache; SAM 2's several arrays survive the trip too."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sam_tiny import TINY_SAM, TINY_SAM2  # noqa: E402
from test_sam_segmenter import _CountingModel, _image  # noqa: E402

pytest.importorskip("transformers")

from segstudio.core.assist.embedding_store import EmbeddingStore  # noqa: E402
from segstudio.model.sam import PromptableSegmenter  # noqa: E402
from segstudio.model.sam.loader import build_random  # noqa: E402


def _segmenter(config, store, model_id="m1"):
    model, family = build_random(config, seed=3)
    segmenter = PromptableSegmenter(_CountingModel(model), family)
    segmenter.disk, segmenter.model_id = store, model_id
    return segmenter


@pytest.mark.parametrize("config", [TINY_SAM, TINY_SAM2], ids=["sam", "sam2"])
def test_an_embedding_on_disk_answers_a_fresh_segmenter_without_the_encoder(tmp_path, config) -> None:
    store = EmbeddingStore(tmp_path, lambda: True)
    first = _segmenter(config, store)
    image = _image()
    first.embed("a", image)  # ordinary use: read from disk when there, never written
    assert not list(tmp_path.rglob("*.emb"))
    expected = first.predict("a", [[20, 30]], [1])
    assert _segmenter(config, store).prepare("a", image)  # the folder prepared
    second = _segmenter(config, store)
    second.embed("a", image)
    got = second.predict("a", [[20, 30]], [1])
    assert second.model.calls == 0 and first.model.calls == 1
    assert np.array_equal(got.masks, expected.masks) and np.allclose(got.scores, expected.scores)
    other_model = _segmenter(config, store, "m2")
    other_model.embed("a", image)
    assert other_model.model.calls == 1  # another model never reads this one's embedding


def test_prepare_writes_to_disk_only_once_and_leaves_the_memory_cache(tmp_path) -> None:
    store = EmbeddingStore(tmp_path, lambda: True)
    segmenter = _segmenter(TINY_SAM, store)
    assert segmenter.prepare("a", _image()) and not segmenter.is_embedded("a")
    assert not segmenter.prepare("a", _image())  # already there
    assert segmenter.model.calls == 1
    segmenter.embed("a", _image())
    assert segmenter.model.calls == 1 and segmenter.is_embedded("a")


def test_a_damaged_file_is_ignored_and_computed_again(tmp_path) -> None:
    store = EmbeddingStore(tmp_path, lambda: True)
    first = _segmenter(TINY_SAM, store)
    first.prepare("a", _image())
    (path,) = (tmp_path / ".segstudio" / "sam-embeddings").glob("*.emb")
    path.write_bytes(path.read_bytes()[:1000])  # cut off
    second = _segmenter(TINY_SAM, store)
    second.embed("a", _image())
    assert second.model.calls == 1  # computed again, and written whole
    third = _segmenter(TINY_SAM, store)
    third.embed("a", _image())
    assert third.model.calls == 0
