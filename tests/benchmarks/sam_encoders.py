"""Image-embedding time of smaller promptable models beside our default, on this CPU.

Plain script (not collected by pytest):  python tests/benchmarks/sam_encoders.py [--rounds 3] [--threads 2]

Our default is SAM 2.1 Hiera-tiny through transformers, eager PyTorch and the ONNX Runtime int8
encoder the window uses (segstudio/model/sam/onnx_encoder.py). Beside it, whatever of the smaller
models can be built here, with random weights of their published configurations (no model hub is
reachable, and an encoder's time does not depend on its weights):

- EdgeTAM (RepViT-M1 image encoder) through transformers' ``EdgeTamModel``, which needs timm (and
  timm needs torchvision); run through our own ``PromptableSegmenter`` as a SAM 2 model, eager and on the
  ONNX Runtime int8 path, when the export goes through;
- MobileSAM (TinyViT-5M encoder), the authors' code as packaged on PyPI (``mobilesam-mirror``, import
  ``mobile_sam``, needs timm), through its own ``SamPredictor.set_image``;
- EfficientViT-SAM L0 (MIT Han lab; PyPI ``efficientsam``, which is this model and not Xiong et
  al.'s EfficientSAM), through its own predictor's ``set_image`` (512-pixel input).

Each round times one embedding of every candidate in turn (the runs alternate, so a change of load
touches all alike), on a 480×360 CamVid photo (from ``../shared/datasets/camvid-val/``, else a
synthetic photo of that size) and a 1024×1024 one; the table gives the median and the ratio to the
default's eager and ONNX Runtime times, with the load average before and after. A candidate that
cannot be built prints why in one line.

In the project's environment only SAM 2.1's rows run: timm cannot be installed beside its CPU torch
(docs/performance.md says why). The other rows were measured in a throwaway environment::

    python3.11 -m venv /tmp/enc-venv
    /tmp/enc-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 timm transformers==5.25.0 \
        onnxruntime==1.32.0 onnx pillow numpy opencv-python-headless huggingface_hub psygnal lxml psutil pyyaml
    /tmp/enc-venv/bin/pip install --no-deps mobilesam-mirror efficientsam
    /tmp/enc-venv/bin/python tests/benchmarks/sam_encoders.py   # this checkout's segstudio comes first
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

# this checkout's segstudio (not another one installed editable), and the benchmark helpers beside this file
sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from camvid_set import camvid_root

warnings.filterwarnings("ignore")


def digest_of(model) -> str:
    """A stand-in for the weights file's sha256 (the ONNX cache's key): a hash of the parameters."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().float().cpu().numpy().tobytes()[:4096])
    return h.hexdigest()


def params(module) -> str:
    return f"{sum(p.numel() for p in module.parameters()) / 1e6:.1f} M"


class SegmenterRun:
    """One of our PromptableSegmenter instances: ``embed`` on a fresh key each time."""

    def __init__(self, name: str, segmenter, encoder_params: str) -> None:
        self.name, self.segmenter, self.params = name, segmenter, encoder_params

    def __call__(self, image: np.ndarray) -> None:
        self.segmenter.embed("bench", image)
        self.segmenter.forget("bench")


class PredictorRun:
    """A package's own predictor: ``set_image`` (its preprocessing and image encoder)."""

    def __init__(self, name: str, predictor, encoder_params: str) -> None:
        self.name, self.predictor, self.params = name, predictor, encoder_params

    def __call__(self, image: np.ndarray) -> None:
        with torch.inference_mode():
            self.predictor.set_image(image)


DEFAULT_TORCH = "SAM 2.1 Hiera-T, torch (default model)"
DEFAULT_ORT = "SAM 2.1 Hiera-T, ORT int8 (the window's)"


def sam2_runs(cache: Path, threads: int) -> list:
    from segstudio.model.sam import DEFAULT, PromptableSegmenter
    from segstudio.model.sam.loader import build_random
    from segstudio.model.sam.onnx_encoder import cached_encoder

    model, family = build_random(DEFAULT.config)
    encoder_params = params(model.vision_encoder)
    runs = [SegmenterRun(DEFAULT_TORCH, PromptableSegmenter(model, family), encoder_params)]
    ort = cached_encoder(model, digest_of(model), 1024, cache=cache, threads=threads)
    runs.append(SegmenterRun(DEFAULT_ORT, PromptableSegmenter(model, family, encoder=ort),
                             encoder_params))
    return runs


def edgetam_runs(cache: Path, threads: int) -> list:
    import transformers

    from segstudio.model.sam import PromptableSegmenter
    from segstudio.model.sam.loader import Family
    from segstudio.model.sam.onnx_encoder import cached_encoder

    if not hasattr(transformers, "EdgeTamModel"):
        raise ImportError(f"transformers {transformers.__version__} has no EdgeTamModel")
    try:
        import timm  # noqa: F401 - EdgeTAM's RepViT backbone is built by timm
    except ImportError as error:  # timm needs a torchvision that matches torch: docs/performance.md
        raise ImportError(f"{error}: EdgeTAM's RepViT encoder is built by timm, which needs torchvision") from None

    backbone = transformers.TimmWrapperConfig(
        architecture="repvit_m1.dist_in1k",
        model_args={"in_chans": 3, "features_only": True, "out_indices": [0, 1, 2, 3]})
    config = transformers.EdgeTamConfig(vision_config=transformers.EdgeTamVisionConfig(backbone_config=backbone))
    torch.manual_seed(0)
    model = transformers.EdgeTamModel(config).eval()
    family = Family("sam2", "EdgeTamModel", "EdgeTamConfig", letterbox=False)  # SAM 2's embeddings and framing
    encoder_params = params(model.vision_encoder)
    runs = [SegmenterRun("EdgeTAM (RepViT-M1), torch", PromptableSegmenter(model, family), encoder_params)]
    try:
        ort = cached_encoder(model, digest_of(model), 1024, cache=cache, threads=threads)
        runs.append(SegmenterRun("EdgeTAM (RepViT-M1), ORT int8", PromptableSegmenter(model, family, encoder=ort),
                                 encoder_params))
    except Exception as error:  # the exporter raises many types: one line, the eager row stays
        print(f"EdgeTAM on ONNX Runtime: not built ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
    return runs


def mobilesam_runs(cache: Path, threads: int) -> list:
    from mobile_sam import SamPredictor, sam_model_registry

    torch.manual_seed(0)
    model = sam_model_registry["vit_t"](checkpoint=None).eval()
    return [PredictorRun("MobileSAM (TinyViT-5M), torch", SamPredictor(model), params(model.image_encoder))]


def efficientvit_runs(cache: Path, threads: int) -> list:
    from efficientsam.models.efficientvit.sam import EfficientViTSamPredictor
    from efficientsam.sam_model_zoo import create_efficientvit_sam_model

    torch.manual_seed(0)
    model = create_efficientvit_sam_model("efficientvit-sam-l0", pretrained=False).eval()
    return [PredictorRun("EfficientViT-SAM L0, torch (512 input)", EfficientViTSamPredictor(model),
                         params(model.image_encoder))]


def agreement(runs: list, image: np.ndarray) -> None:
    """For each model with both runtimes: the mean IoU of the best click masks, torch against ORT
    int8, at a grid of 9 points (the int8 weights must not change the answer much)."""
    by_model: dict[str, list] = {}
    for run in runs:
        if isinstance(run, SegmenterRun):
            by_model.setdefault(run.name.split(",")[0], []).append(run.segmenter)
    height, width = image.shape[:2]
    points = [(width * i / 4, height * j / 4) for i in (1, 2, 3) for j in (1, 2, 3)]
    for model, segmenters in by_model.items():
        if len(segmenters) != 2:
            continue
        for segmenter in segmenters:
            segmenter.embed("agree", image)
        ious = []
        for point in points:
            a, b = (s.predict("agree", [point], [1]).mask(0) for s in segmenters)
            ious.append((a & b).sum() / max(1, (a | b).sum()))
        for segmenter in segmenters:
            segmenter.forget("agree")
        print(f"{model}: click masks torch vs ORT int8, mean IoU {np.mean(ious):.3f} over 9 points (random weights)")


CANDIDATES = (("SAM 2.1 Hiera-T", sam2_runs), ("EdgeTAM", edgetam_runs), ("MobileSAM", mobilesam_runs),
              ("EfficientViT-SAM", efficientvit_runs))


def photos() -> list[tuple[str, np.ndarray]]:
    root, _ = camvid_root()
    if root is not None:
        first = sorted((root / "images").glob("*.jpg"))[0]
        small = np.array(Image.open(first).convert("RGB"))
        name = f"480×360 CamVid {first.stem}"
    else:
        small = np.random.default_rng(0).integers(0, 256, (360, 480, 3), dtype=np.uint8)
        name = "480×360 synthetic (no CamVid here)"
    large = np.array(Image.fromarray(small).resize((1024, 1024), Image.BICUBIC))
    return [(name, small), ("1024×1024 (the photo enlarged)", large)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, torch and ONNX Runtime threads {args.threads}")
    runs = []
    with tempfile.TemporaryDirectory(prefix="segstudio-sam-encoders-") as scratch:
        for name, build in CANDIDATES:
            start = time.perf_counter()
            try:
                runs.extend(build(Path(scratch), args.threads))
                print(f"{name}: built in {time.perf_counter() - start:.0f} s")
            except Exception as error:  # one line, the other candidates go on
                print(f"{name}: cannot be built here ({type(error).__name__}: {str(error).splitlines()[0][:200]})")
        images = photos()
        load_before = os.getloadavg()[0]
        times: dict[tuple[str, str], list[float]] = {}
        for run in runs:  # one warm-up each: first-run allocations and ONNX Runtime's graph setup
            run(images[0][1])
        for _ in range(args.rounds):
            for label, image in images:
                for run in runs:
                    start = time.perf_counter()
                    run(image)
                    times.setdefault((run.name, label), []).append(time.perf_counter() - start)
        load_after = os.getloadavg()[0]
        agreement(runs, images[0][1])
    print(f"load average {load_before:.1f} before, {load_after:.1f} after; median of {args.rounds} alternating runs\n")
    print("| model, runtime | image encoder | image | embedding s | × default torch | × default ORT |")
    print("|---|---|---|---|---|---|")
    for label, _ in images:
        base = {run.name: statistics.median(times[(run.name, label)]) for run in runs}
        torch_base, ort_base = base.get(DEFAULT_TORCH), base.get(DEFAULT_ORT)
        for run in runs:
            seconds = base[run.name]
            ratios = [f"{seconds / b:.2f}" if b else "-" for b in (torch_base, ort_base)]
            print(f"| {run.name} | {run.params} | {label} | {seconds:.2f} | {ratios[0]} | {ratios[1]} |")


if __name__ == "__main__":
    main()
