"""Our SAM framing, prompt encoding and mask post-processing equal transformers' SamProcessor.

A tiny random SAM (input 128) sees a non-square image, a portrait and a large 1500×900 image with
points, a box, and both; the reference is ``SamProcessor`` + ``SamModel`` on the same inputs.
SAM 2's reference processor needs torchvision, so its comparison is skipped where that is absent
(the model-level checks below run everywhere).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from sam_tiny import SIZE, TINY_SAM, TINY_SAM2  # noqa: E402

transformers = pytest.importorskip("transformers")

from segstudio.model.sam.frame import Frame  # noqa: E402
from segstudio.model.sam.loader import build_random  # noqa: E402
from segstudio.model.sam.segmenter import PromptableSegmenter, _prompt_tensors  # noqa: E402

SHAPES = [(90, 150), (150, 90), (900, 1500)]  # (H, W): landscape, portrait, large
PROMPTS = [
    {"points": [[30.0, 40.0], [100.5, 60.25]], "labels": [1, 0], "box": None},
    {"points": [], "labels": [], "box": [12.0, 8.0, 120.0, 80.0]},
    {"points": [[70.0, 45.0]], "labels": [1], "box": [12.0, 8.0, 120.0, 80.0]},
]


def _image(height: int, width: int) -> np.ndarray:
    """Smooth shapes plus noise: resizing differences would show, unlike on a flat image."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // max(1, width - 1), yy * 255 // max(1, height - 1), (xx + yy) % 256], axis=2)
    noise = np.random.default_rng(height * width).integers(0, 40, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _scaled(prompt: dict, height: int, width: int) -> dict:
    """The prompt's coordinates, given for a 150×90 image, moved onto an image of this size."""
    sx, sy = width / 150, height / 90
    points = [[x * sx, y * sy] for x, y in prompt["points"]]
    box = None if prompt["box"] is None else [prompt["box"][0] * sx, prompt["box"][1] * sy,
                                               prompt["box"][2] * sx, prompt["box"][3] * sy]
    return {"points": points, "labels": list(prompt["labels"]), "box": box}


@pytest.fixture(scope="module")
def sam(request):
    model, family = build_random(TINY_SAM)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # SAM's encoder initialises near zero; spread it so the masks vary
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    processor = transformers.SamProcessor(
        transformers.SamImageProcessorPil(size={"longest_edge": SIZE}, pad_size={"height": SIZE, "width": SIZE})
    ) if hasattr(transformers, "SamImageProcessorPil") else transformers.SamProcessor(
        transformers.SamImageProcessor(size={"longest_edge": SIZE}, pad_size={"height": SIZE, "width": SIZE})
    )
    return model, family, processor


def _reference_inputs(processor, rgb: np.ndarray, prompt: dict):
    kwargs = {}
    if prompt["points"]:
        kwargs["input_points"] = [[prompt["points"]]]
        kwargs["input_labels"] = [[prompt["labels"]]]
    if prompt["box"] is not None:
        kwargs["input_boxes"] = [[prompt["box"]]]
    return processor(images=rgb, return_tensors="pt", **kwargs)


@pytest.mark.parametrize("shape", SHAPES)
def test_sam_pixels_equal_the_processor(sam, shape) -> None:
    _, family, processor = sam
    rgb = _image(*shape)
    ref = processor(images=rgb, return_tensors="pt")
    frame = Frame(shape[0], shape[1], SIZE, family.letterbox)
    assert tuple(ref["reshaped_input_sizes"][0].tolist()) == frame.resized
    assert torch.allclose(frame.pixels(rgb), ref["pixel_values"].float(), atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("prompt", PROMPTS, ids=["points", "box", "points+box"])
def test_sam_prompt_encoding_equals_the_processor(sam, shape, prompt) -> None:
    _, family, processor = sam
    prompt = _scaled(prompt, *shape)
    ref = _reference_inputs(processor, _image(*shape), prompt)
    ours = _prompt_tensors(Frame(shape[0], shape[1], SIZE, family.letterbox), prompt["points"],
                           prompt["labels"], prompt["box"])
    assert set(ours) == {k for k in ref if k.startswith("input_")}
    for name, value in ours.items():
        assert value.shape == ref[name].shape, name
        assert torch.allclose(value.double(), ref[name].double(), atol=1e-4), name


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("prompt", PROMPTS, ids=["points", "box", "points+box"])
def test_sam_masks_and_scores_equal_the_reference(sam, shape, prompt) -> None:
    model, family, processor = sam
    rgb, prompt = _image(*shape), _scaled(prompt, *shape)
    ref_inputs = _reference_inputs(processor, rgb, prompt)
    with torch.inference_mode():
        out = model(**{k: v for k, v in ref_inputs.items() if k in ("pixel_values", "input_points",
                                                                     "input_labels", "input_boxes")})
    ref_logits = processor.post_process_masks(out.pred_masks, ref_inputs["original_sizes"],
                                              ref_inputs["reshaped_input_sizes"], binarize=False)[0][0]
    ref_scores = out.iou_scores[0, 0]

    segmenter = PromptableSegmenter(model, family)
    segmenter.embed("image", rgb)
    proposal = segmenter.predict("image", prompt["points"], prompt["labels"], prompt["box"])
    order = torch.argsort(ref_scores, descending=True, stable=True)
    assert proposal.masks.shape == (3, *shape)
    assert np.allclose(proposal.scores, ref_scores[order].numpy(), atol=1e-5)
    ref_masks = (ref_logits[order] > 0).numpy()
    near_zero = (ref_logits[order].abs() < 1e-4).numpy()  # float noise may tip these only
    assert ((proposal.masks != ref_masks) & ~near_zero).sum() == 0
    assert 0 < ref_masks.mean() < 1  # the comparison was not trivially all-or-nothing


def test_sam_mask_logits_undo_the_letterbox_like_the_processor(sam) -> None:
    _, family, processor = sam
    low_res = torch.randn(1, 1, 3, SIZE // 4, SIZE // 4)
    for shape in SHAPES:
        frame = Frame(shape[0], shape[1], SIZE, family.letterbox)
        ref = processor.post_process_masks(low_res.clone(), [list(shape)], [list(frame.resized)],
                                           binarize=False)[0][0]
        assert torch.allclose(frame.mask_logits(low_res[0, 0]), ref, atol=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_sam2_pixels_and_masks_equal_the_processor(shape) -> None:
    pytest.importorskip("torchvision", reason="transformers' Sam2ImageProcessor needs torchvision")
    model, family = build_random(TINY_SAM2)
    processor = transformers.Sam2Processor(
        transformers.Sam2ImageProcessor(size={"height": SIZE, "width": SIZE}), target_size=SIZE
    )
    rgb = _image(*shape)
    prompt = _scaled(PROMPTS[2], *shape)
    ref = processor(images=rgb, input_points=[[prompt["points"]]], input_labels=[[prompt["labels"]]],
                    input_boxes=[[prompt["box"]]], return_tensors="pt")
    frame = Frame(shape[0], shape[1], SIZE, family.letterbox)
    assert torch.allclose(frame.pixels(rgb), ref["pixel_values"].float(), atol=1e-5)
    ours = _prompt_tensors(frame, prompt["points"], prompt["labels"], prompt["box"])
    for name, value in ours.items():
        assert torch.allclose(value.double(), ref[name].double(), atol=1e-4), name
    with torch.inference_mode():
        out = model(**{k: v for k, v in ref.items() if k != "original_sizes"})
    ref_logits = processor.post_process_masks(out.pred_masks, ref["original_sizes"], binarize=False)[0][0]
    assert torch.allclose(frame.mask_logits(out.pred_masks[0, 0]), ref_logits, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_sam2_segmenter_equals_the_model_run_on_pixels(shape) -> None:
    """Cached embedding + decoder equals one full forward from pixels; masks map back stretched."""
    model, family = build_random(TINY_SAM2)
    rgb = _image(*shape)
    prompt = _scaled(PROMPTS[2], *shape)
    frame = Frame(shape[0], shape[1], SIZE, family.letterbox)
    with torch.inference_mode():
        out = model(pixel_values=frame.pixels(rgb), multimask_output=True,
                    **_prompt_tensors(frame, prompt["points"], prompt["labels"], prompt["box"]))
    segmenter = PromptableSegmenter(model, family)
    segmenter.embed("image", rgb)
    proposal = segmenter.predict("image", prompt["points"], prompt["labels"], prompt["box"])
    scores = out.iou_scores[0, 0]
    order = torch.argsort(scores, descending=True, stable=True)
    assert np.allclose(proposal.scores, scores[order].numpy(), atol=1e-5)
    logits = torch.nn.functional.interpolate(out.pred_masks[0], shape, mode="bilinear", align_corners=False)[0]
    expected = (logits[order] > 0).numpy()
    assert ((proposal.masks != expected) & (logits[order].abs() > 1e-4).numpy()).sum() == 0
    assert Frame(90, 150, SIZE, False).to_input(np.array([[150.0, 90.0]])).tolist() == [[SIZE, SIZE]]


@pytest.mark.parametrize("shape", SHAPES)
def test_sam2_prompt_encoding_equals_the_processors_rule(shape) -> None:
    """Sam2Processor's coordinate rule (importable without torchvision) on points and a box."""
    from transformers.models.sam2.processing_sam2 import Sam2Processor

    prompt = _scaled(PROMPTS[2], *shape)
    frame = Frame(shape[0], shape[1], SIZE, letterbox=False)
    ours = _prompt_tensors(frame, prompt["points"], prompt["labels"], prompt["box"])
    points = Sam2Processor._normalize_coordinates(None, SIZE, torch.tensor(prompt["points"]), shape)
    box = Sam2Processor._normalize_coordinates(None, SIZE, torch.tensor([prompt["box"]]), shape,
                                               is_bounding_box=True)
    assert torch.allclose(ours["input_points"][0, 0], points, atol=1e-4)
    assert torch.allclose(ours["input_boxes"][0, 0], box[0], atol=1e-4)
