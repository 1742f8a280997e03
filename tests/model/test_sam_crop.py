"""PromptableSegmenter on a crop around a small object: the crop's masks pasted back at their exact
pixels (the same as segmenting the cut-out image), nothing outside the crop, the crop's embedding
kept in memory for the next clicks but never on disk, and dropped on request."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sam_tiny import TINY_SAM, TINY_SAM2, prompt_sensitive  # noqa: E402
from test_sam_segmenter import _CountingModel  # noqa: E402

pytest.importorskip("transformers")

from segstudio.core.assist.embedding_store import EmbeddingStore  # noqa: E402
from segstudio.core.assist.small_objects import CropBox, crop_around  # noqa: E402
from segstudio.model.sam import PromptableSegmenter  # noqa: E402
from segstudio.model.sam.loader import build_random  # noqa: E402


def _segmenter(config) -> PromptableSegmenter:
    model, family = build_random(config, seed=2)
    return PromptableSegmenter(_CountingModel(prompt_sensitive(model)), family)


def _photo(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (height, width, 3), np.uint8)


@pytest.mark.parametrize("config", [TINY_SAM, TINY_SAM2], ids=["sam", "sam2"])
@pytest.mark.parametrize("crop", [CropBox(400, 300, 656, 556), CropBox(844, 344, 1100, 600), CropBox(0, 0, 256, 256)],
                         ids=["inside", "bottom-right", "top-left"])
def test_a_crops_masks_are_the_cut_out_images_pasted_at_their_pixels(config, crop) -> None:
    segmenter = _segmenter(config)
    image = _photo(600, 1100)  # not square: the crop and the image have different frames
    point, box = (crop.x0 + 100.5, crop.y0 + 60.5), (crop.x0 + 80, crop.y0 + 40, crop.x0 + 130, crop.y0 + 90)
    assert segmenter.embed_crop("photo", image, crop) is not None  # computed: its seconds
    on_crop = segmenter.predict_crop("photo", crop, (600, 1100), [point], [1], box)
    segmenter.embed("cut", np.ascontiguousarray(image[crop.slices]))
    cut = segmenter.predict("cut", crop.to_crop(np.array([point])), [1], crop.to_crop(np.reshape(box, (2, 2))).ravel())
    assert on_crop.crop == crop and np.array_equal(on_crop.scores, cut.scores)
    for index in range(len(cut)):
        mask = on_crop.mask(index)
        assert mask.shape == (600, 1100)
        assert np.array_equal(mask[crop.slices], cut.mask(index))
        assert mask.sum() == cut.mask(index).sum()  # nothing outside the crop
    assert cut.best.any() and not cut.best.all()  # the comparison had pixels both ways to compare


def test_a_crop_is_embedded_once_for_its_clicks_never_stored_and_forgotten_on_request(tmp_path) -> None:
    segmenter = _segmenter(TINY_SAM2)
    store = EmbeddingStore(tmp_path, lambda: True)
    segmenter.disk, segmenter.model_id = store, "m1"
    image = _photo(3000, 4000)
    crop = crop_around((3990, 2995, 3991, 2996), 4000, 3000)  # a one-pixel object in the corner
    assert (crop.x1, crop.y1) == (4000, 3000)
    segmenter.embed("photo", image)
    assert segmenter.embed_crop("photo", image, crop) is not None
    assert segmenter.embed_crop("photo", image, crop) is None  # the next click: cached
    first = segmenter.predict_crop("photo", crop, (3000, 4000), [(3990.5, 2995.5)], [1])
    second = segmenter.predict_crop("photo", crop, (3000, 4000), [(3990.5, 2995.5), (3900, 2900)], [1, 0])
    assert segmenter.model.calls == 2 and len(first) == len(second)
    assert not list(tmp_path.rglob("*.emb"))  # crops never reach the disk
    assert first.best[:crop.y0].sum() == 0 and first.best[:, :crop.x0].sum() == 0
    with pytest.raises(ValueError, match="outside the crop"):
        segmenter.predict_crop("photo", crop, (3000, 4000), [(10, 10)], [1])
    segmenter.forget_crops("other")
    assert segmenter.embed_crop("photo", image, crop) is None  # another image's crops only
    segmenter.forget_crops("photo")
    assert segmenter.is_embedded("photo")  # the whole image stays for the next object
    with pytest.raises(KeyError):
        segmenter.predict_crop("photo", crop, (3000, 4000), [(3990.5, 2995.5)], [1])
    assert segmenter.embed_crop("photo", image, crop) is not None  # computed again
