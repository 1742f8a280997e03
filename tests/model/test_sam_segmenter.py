"""PromptableSegmenter: the per-image embedding cache across threads, loading a model folder, and
one clear error for each unusable input (missing extra, not a model, pickled or partial weights)."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from sam_tiny import TINY_SAM, TINY_SAM2  # noqa: E402

pytest.importorskip("transformers")

from segstudio.core.errors import CheckpointError, SegStudioError  # noqa: E402
from segstudio.model.sam import AssistUnavailableError, PromptableSegmenter, sam_box_masks  # noqa: E402
from segstudio.model.sam.loader import build_random, load_model  # noqa: E402


def _image(height: int = 60, width: int = 80, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


class _CountingModel(torch.nn.Module):
    """A real tiny model whose image encoder counts its calls and can be held at a gate."""

    def __init__(self, model) -> None:
        super().__init__()
        self.inner, self.config = model, model.config
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail = False

    def get_image_embeddings(self, pixels):
        self.calls += 1
        self.entered.set()
        assert self.gate.wait(30)
        if self.fail:
            raise MemoryError("out of memory while embedding")
        return self.inner.get_image_embeddings(pixels)

    def forward(self, **kwargs):
        return self.inner(**kwargs)


def _until_waiting(segmenter: PromptableSegmenter, key: str, count: int) -> None:
    """Block until ``count`` threads wait for the embedding of ``key`` (a busy machine is slow)."""
    event = segmenter._cache[key].ready
    deadline = time.monotonic() + 30
    while len(event._cond._waiters) < count:  # CPython's Event: a Condition with a waiter list
        assert time.monotonic() < deadline, "the threads never started waiting"
        time.sleep(0.01)


@pytest.fixture
def counting():
    model, family = build_random(TINY_SAM)
    return _CountingModel(model), family


def test_sam_embedding_is_computed_once_per_image_and_reused(counting) -> None:
    model, family = counting
    segmenter = PromptableSegmenter(model, family)
    image = _image()
    segmenter.embed("a", image)
    segmenter.embed("a", image)
    first = segmenter.predict("a", [[20, 30]], [1])
    second = segmenter.predict("a", [[20, 30]], [1])
    assert model.calls == 1
    assert np.array_equal(first.masks, second.masks) and np.array_equal(first.scores, second.scores)
    assert first.masks.shape == (3, 60, 80) and first.masks.dtype == bool
    assert list(first.scores) == sorted(first.scores, reverse=True)
    fresh = segmenter.predict("a", [[20, 30]], [1])  # full-size masks are made when asked for
    assert len(fresh) == 3 and np.array_equal(fresh.mask(2), first.masks[2])
    assert np.array_equal(fresh.best, first.masks[0])


def test_sam_cache_keeps_the_most_recent_images_and_recomputes_a_resized_one(counting) -> None:
    model, family = counting
    segmenter = PromptableSegmenter(model, family, cache_images=2)
    for key in ("a", "b", "c"):
        segmenter.embed(key, _image())
    assert not segmenter.is_embedded("a") and segmenter.is_embedded("b") and segmenter.is_embedded("c")
    with pytest.raises(KeyError, match="call embed"):
        segmenter.predict("a", [[1, 1]], [1])
    calls = model.calls
    segmenter.embed("c", _image(50, 70))  # same key, the file changed size: embed again
    assert model.calls == calls + 1
    assert segmenter.predict("c", [[10, 10]], [1]).masks.shape == (3, 50, 70)


def test_sam_predict_waits_for_an_embedding_in_progress_and_others_do_not_block(counting) -> None:
    model, family = counting
    segmenter = PromptableSegmenter(model, family)
    segmenter.embed("open", _image(seed=1))
    model.gate.clear()
    model.entered.clear()
    results: dict[str, object] = {}
    worker = threading.Thread(target=lambda: segmenter.embed("next", _image(seed=2)))
    worker.start()
    assert model.entered.wait(30)  # "next" is being embedded (held at the gate)
    # a click on the open image is answered while "next" is still being computed
    results["open"] = segmenter.predict("open", [[5, 5]], [1])
    waiter = threading.Thread(target=lambda: results.setdefault("next", segmenter.predict("next", [[5, 5]], [1])))
    second_embed = threading.Thread(target=lambda: segmenter.embed("next", _image(seed=2)))
    waiter.start()
    second_embed.start()
    _until_waiting(segmenter, "next", 2)
    assert waiter.is_alive() and "next" not in results  # waits for the embedding, no error
    model.gate.set()
    for thread in (worker, waiter, second_embed):
        thread.join(30)
    assert results["next"].masks.shape == (3, 60, 80)
    assert model.calls == 2  # the second embed("next") waited for the first instead of computing


def test_sam_failed_embedding_is_reported_to_waiters_and_not_cached(counting) -> None:
    model, family = counting
    segmenter = PromptableSegmenter(model, family)
    with pytest.raises(ValueError, match="8-bit"):
        segmenter.embed("bad", np.zeros((10, 10, 3), np.float32))
    assert not segmenter.is_embedded("bad")
    for points, labels, box, message in (
        ([[1, 2]], [1, 0], None, "2 labels"),
        ([[1, 2]], [2], None, "labels are 1"),
        ([[np.nan, 2]], [1], None, "finite"),
        ((), (), None, "at least one point or a box"),
        ((), (), (0, 0, np.inf, 5), "finite"),
    ):
        segmenter.embed("ok", _image())
        with pytest.raises(ValueError, match=message):
            segmenter.predict("ok", points, labels, box)


def test_sam_waiters_share_a_failed_embedding_which_is_then_computed_again(counting) -> None:
    model, family = counting
    segmenter = PromptableSegmenter(model, family)
    model.gate.clear()
    model.fail = True
    errors: list[BaseException] = []

    def embed() -> None:
        try:
            segmenter.embed("a", _image())
        except BaseException as error:  # noqa: BLE001 - the test collects what each thread saw
            errors.append(error)

    first = threading.Thread(target=embed)
    first.start()
    assert model.entered.wait(30)
    waiter = threading.Thread(target=lambda: errors.append(pytest.raises(RuntimeError, segmenter.predict, "a",
                                                                          [[1, 1]], [1]).value))
    second = threading.Thread(target=embed)
    waiter.start()
    second.start()
    _until_waiting(segmenter, "a", 2)
    model.gate.set()
    for thread in (first, waiter, second):
        thread.join(30)
    assert model.calls == 1 and len(errors) == 3
    assert sum(isinstance(e, MemoryError) for e in errors) == 1  # the thread that computed it
    assert all("embedding failed: out of memory" in str(e) for e in errors if not isinstance(e, MemoryError))
    assert not segmenter.is_embedded("a")
    model.fail = False
    segmenter.embed("a", _image())  # a later call tries again
    assert model.calls == 2 and segmenter.is_embedded("a")


def test_sam_box_dragged_backwards_equals_the_box_dragged_forwards(counting) -> None:
    model, family = counting
    segmenter = PromptableSegmenter(model, family)
    segmenter.embed("a", _image())
    forward = segmenter.predict("a", box=(10, 5, 60, 50))
    backward = segmenter.predict("a", box=(60, 50, 10, 5))
    assert np.array_equal(forward.masks, backward.masks)


@pytest.mark.parametrize("config", [TINY_SAM, TINY_SAM2], ids=["sam", "sam2"])
def test_sam_model_folder_loads_and_predicts_like_the_model_saved(tmp_path, config) -> None:
    model, family = build_random(config, seed=3)
    model.save_pretrained(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} >= {"config.json", "model.safetensors"}
    loaded = PromptableSegmenter.from_folder(tmp_path / "model", runtime="torch")
    direct = PromptableSegmenter(model, family)
    image = _image(70, 40)
    for segmenter in (loaded, direct):
        segmenter.embed("x", image)
    a, b = (s.predict("x", [[10, 20], [30, 60]], [1, 0], box=(2, 3, 38, 66)) for s in (loaded, direct))
    assert np.array_equal(a.masks, b.masks) and np.allclose(a.scores, b.scores)


def test_sam_unusable_model_folders_give_one_clear_error(tmp_path) -> None:
    model, _ = build_random(TINY_SAM)
    good = tmp_path / "good"
    model.save_pretrained(good)
    cases = {}
    cases["missing"] = tmp_path / "nothing"
    (no_config := tmp_path / "no_config").mkdir()
    cases["no config"] = no_config
    (segformer := tmp_path / "segformer").mkdir()
    (segformer / "config.json").write_text(json.dumps({"model_type": "segformer"}))
    cases["segformer"] = segformer
    (broken := tmp_path / "broken").mkdir()
    (broken / "config.json").write_text("{not json")
    cases["broken json"] = broken
    (pickled := tmp_path / "pickled").mkdir()
    (pickled / "config.json").write_bytes((good / "config.json").read_bytes())
    torch.save(model.state_dict(), pickled / "pytorch_model.bin")
    cases["pickled"] = pickled
    (partial := tmp_path / "partial").mkdir()
    (partial / "config.json").write_bytes((good / "config.json").read_bytes())
    from safetensors.torch import save_file
    state = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("mask_decoder.")}
    save_file(state, partial / "model.safetensors")
    cases["partial"] = partial
    (garbage := tmp_path / "garbage").mkdir()
    (garbage / "config.json").write_bytes((good / "config.json").read_bytes())
    (garbage / "model.safetensors").write_bytes(b"\x00" * 100)
    cases["garbage weights"] = garbage
    expected = {"missing": "not a model folder", "no config": "no config.json", "segformer": "'segformer'",
                "broken json": "not valid JSON", "pickled": "no model.safetensors",
                "partial": "lack", "garbage weights": "cannot load"}
    for name, folder in cases.items():
        with pytest.raises(CheckpointError, match=expected[name]) as caught:
            load_model(folder)
        assert "\n" not in str(caught.value), name


def test_sam_missing_extra_names_the_pip_command(monkeypatch, tmp_path) -> None:
    model, _ = build_random(TINY_SAM)
    model.save_pretrained(tmp_path / "model")
    real_import = builtins.__import__

    def no_transformers(name, *args, **kwargs):
        if name == "transformers" or name.startswith("transformers."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "transformers", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_transformers)
    monkeypatch.setattr("importlib.import_module", lambda name, package=None: no_transformers(name))
    with pytest.raises(AssistUnavailableError, match=r"pip install segstudio\[assist\]") as caught:
        PromptableSegmenter.from_folder(tmp_path / "model")
    assert isinstance(caught.value, SegStudioError) and "\n" not in str(caught.value)


def test_sam_too_old_transformers_names_the_pip_command(monkeypatch, tmp_path) -> None:
    import types

    model, _ = build_random(TINY_SAM2)
    model.save_pretrained(tmp_path / "model")
    old = types.SimpleNamespace(__version__="4.40.0", SamModel=object, SamConfig=object)  # before SAM 2
    monkeypatch.setattr("importlib.import_module", lambda name, package=None: old)
    with pytest.raises(AssistUnavailableError, match=r"lacks Sam2Model\): pip install segstudio\[assist\]"):
        PromptableSegmenter.from_folder(tmp_path / "model")


def test_sam_importing_the_package_loads_neither_transformers_nor_qt() -> None:
    code = ("import sys, segstudio.model.sam\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'transformers', 'PySide6'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sam_box_masks_stay_inside_their_boxes_and_embed_once(counting) -> None:
    model, family = counting
    segmenter = PromptableSegmenter(model, family)
    image = _image(60, 80)
    boxes = [(10, 5, 50, 40), (70, 50, 200, 90), (30, 30, 30, 45), (-5, -5, 4, 3)]
    masks = sam_box_masks(segmenter, image, boxes)
    assert model.calls == 1 and len(masks) == 4
    clipped = [(10, 5, 50, 40), (70, 50, 80, 60), None, (0, 0, 4, 3)]
    for mask, box in zip(masks, clipped):
        assert mask.shape == (60, 80) and mask.dtype == bool
        if box is None:
            assert not mask.any()  # an empty box stays empty
            continue
        x0, y0, x1, y1 = box
        inside = np.zeros_like(mask)
        inside[y0:y1, x0:x1] = True
        assert mask.any() and not (mask & ~inside).any()
    best = segmenter.predict(next(iter(segmenter._cache)), box=(10, 5, 50, 40)).best
    assert np.array_equal(masks[0][5:40, 10:50], best[5:40, 10:50] if best[5:40, 10:50].any() else True)
    sam_box_masks(segmenter, image, boxes[:1])
    assert model.calls == 1  # the same pixels reuse the cached embedding
