"""Where the time of click to segment goes, runtime by runtime (the evidence for the ONNX encoder).

Plain script (not collected by pytest):  python tests/benchmarks/sam_runtime_speed.py
Options by environment: SAM_BENCH_RUNS (3), SAM_BENCH_COMPILE=1 adds torch.compile (minutes of
compilation), SAM_BENCH_BF16=0 drops bf16 autocast (slow without AVX-512 BF16/AMX).

The default model (segstudio.model.sam.DEFAULT) with random weights of its real configuration,
1024×1024 input of a synthetic photo. Runtimes are timed alternately, one run of each per round,
so a change of the machine's load touches all of them alike; each row gives the median wall time
and the median CPU time of this process (on a machine shared with other work, CPU time is what one
free core would take). Agreement with eager fp32: the smallest cosine similarity and the largest
absolute difference over every embedding the decoder reads (the 64² image embedding and the two
high-resolution feature maps), and the smallest IoU of the decoder's best mask against eager's
for a few clicks. Then the click path: prompt decoder alone on PyTorch and on ONNX Runtime (1 and
2 threads), and the mask brought to full size by the old (torch) and the current (OpenCV) way, at
1024² and 4000×3000.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from assist_speed import scene  # noqa: E402

from segstudio.model.sam import onnx_decoder, onnx_encoder  # noqa: E402
from segstudio.model.sam.configs import DEFAULT  # noqa: E402
from segstudio.model.sam.frame import Frame  # noqa: E402
from segstudio.model.sam.loader import build_random, input_size  # noqa: E402

RUNS = int(os.environ.get("SAM_BENCH_RUNS", "3"))
CLICKS = ((512, 512), (300, 420), (700, 650), (512, 380))


def timed(work) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def torch_runtime(model, threads: int, channels_last: bool = False, bf16: bool = False, compiled=None):
    """A function pixels → list of embeddings (fp32) running ``model`` eagerly (or compiled)."""
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    encode = compiled or model.get_image_embeddings

    def run(pixels):
        torch.set_num_threads(threads)
        if channels_last:
            pixels = pixels.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return [out.float() for out in encode(pixels)]
    return run


def ort_runtime(data: bytes, threads: int):
    encoder = onnx_encoder.OrtEncoder(data, threads)
    return lambda pixels: encoder(pixels)


def agreement(reference: list[torch.Tensor], got: list[torch.Tensor]) -> tuple[float, float]:
    cosines = [F.cosine_similarity(r.flatten(), g.flatten(), dim=0).item() for r, g in zip(reference, got)]
    return min(cosines), max((r - g).abs().max().item() for r, g in zip(reference, got))


def best_masks(model, embeddings, frame: Frame) -> list[np.ndarray]:
    masks = []
    for x, y in CLICKS:
        points = torch.from_numpy(frame.to_input(np.array([[x, y]], float)))[None, None]
        with torch.inference_mode():
            out = model(image_embeddings=embeddings, input_points=points,
                        input_labels=torch.ones(1, 1, 1, dtype=torch.long), multimask_output=True)
        best = int(out.iou_scores[0, 0].argmax())
        masks.append((out.pred_masks[0, 0, best] > 0).numpy())
    return masks


def min_iou(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return min(float((x & y).sum() / max(1, (x | y).sum())) for x, y in zip(a, b))


def runtimes(model, size: int) -> dict:
    """name → (threads, run function); exports the ONNX encoder (and its int8 form) first."""
    found = {}
    for threads in (1, 2):
        found[f"torch eager (no_grad) t{threads}"] = (threads, _no_grad(model, threads))
        found[f"torch inference_mode t{threads}"] = (threads, torch_runtime(model, threads))
    found["torch inference_mode+channels_last t1"] = (1, torch_runtime(_copy(model), 1, channels_last=True))
    if os.environ.get("SAM_BENCH_BF16", "1") != "0":
        found["torch bf16 autocast t1"] = (1, torch_runtime(model, 1, bf16=True))
    if os.environ.get("SAM_BENCH_COMPILE") == "1":
        start = time.perf_counter()
        compiled = torch.compile(model.get_image_embeddings)
        torch_runtime(model, 1, compiled=compiled)(torch.zeros(1, 3, size, size))
        print(f"torch.compile: first call (compilation) {time.perf_counter() - start:.0f} s")
        found["torch.compile t1"] = (1, torch_runtime(model, 1, compiled=compiled))
    start = time.perf_counter()
    fp32 = onnx_encoder.export_encoder(model, size)
    print(f"ONNX export (opset {onnx_encoder.OPSET}): {time.perf_counter() - start:.1f} s, {len(fp32) / 1e6:.0f} MB")
    start = time.perf_counter()
    int8 = onnx_encoder.quantize_int8(fp32)
    print(f"int8 dynamic quantization: {time.perf_counter() - start:.1f} s, {len(int8) / 1e6:.0f} MB")
    for threads in (1, 2):
        found[f"ORT fp32 t{threads}"] = (threads, ort_runtime(fp32, threads))
        found[f"ORT int8 t{threads}"] = (threads, ort_runtime(int8, threads))
    return found


def _no_grad(model, threads: int):
    def run(pixels):
        torch.set_num_threads(threads)
        with torch.no_grad():
            return list(model.get_image_embeddings(pixels))
    return run


def _copy(model):
    import copy
    return copy.deepcopy(model)


def click_rows(model, embeddings) -> list[tuple[str, float, float]]:
    """(what, median wall ms, median CPU ms) of the click path at two image sizes: the decoder on
    PyTorch and on ONNX Runtime (timed alternately), and the upsampling to full size."""
    rows = []
    torch.set_num_threads(1)
    start = time.perf_counter()
    graph = onnx_decoder.export_decoder(model, [tuple(e.shape) for e in embeddings])
    ort_decoder = onnx_decoder.OrtPointDecoder(graph, 1)
    ort_decoder_t2 = onnx_decoder.OrtPointDecoder(graph, 2)
    print(f"ONNX export of the point decoder: {time.perf_counter() - start:.1f} s")
    for width, height in ((1024, 1024), (4000, 3000)):
        frame = Frame(height, width, input_size(model.config), letterbox=False)
        point = torch.from_numpy(frame.to_input(np.array([[width / 2, height / 2]])))[None, None]
        labels = torch.ones(1, 1, 1, dtype=torch.long)

        def decode():
            with torch.inference_mode():
                return model(image_embeddings=embeddings, input_points=point, input_labels=labels,
                             multimask_output=True).pred_masks[0, 0, :1]

        def old_upsample(low):
            with torch.inference_mode():
                return (frame.mask_logits(low)[0] > 0).numpy()

        def decode_ort(decoder=ort_decoder):
            return decoder(embeddings, point, labels)[0][0, 0, :1]

        samples: dict[str, list[tuple[float, float]]] = {
            "decoder torch": [], "decoder ORT fp32": [], "decoder ORT fp32 2 threads": [],
            "old upsample": [], "new upsample": []}
        for _ in range(max(RUNS, 5)):
            wall, cpu, low = timed(decode)
            samples["decoder torch"].append((wall, cpu))
            wall, cpu, low_ort = timed(decode_ort)
            samples["decoder ORT fp32"].append((wall, cpu))
            samples["decoder ORT fp32 2 threads"].append(timed(lambda: decode_ort(ort_decoder_t2))[:2])
            samples["old upsample"].append(timed(lambda: old_upsample(low))[:2])
            samples["new upsample"].append(timed(lambda: frame.mask(low[0]))[:2])
        agree = float((old_upsample(low) == frame.mask(low[0])).mean())
        same = float((frame.mask(low[0]) == frame.mask(low_ort[0])).mean())
        for what, times in samples.items():
            rows.append((f"{width}×{height} {what}", statistics.median(t[0] for t in times) * 1000,
                         statistics.median(t[1] for t in times) * 1000))
        rows.append((f"{width}×{height} new vs old upsample: same pixels {agree * 100:.4f} %", 0.0, 0.0))
        rows.append((f"{width}×{height} ORT vs torch decoder: same pixels {same * 100:.4f} %", 0.0, 0.0))
    return rows


def main() -> None:
    torch.set_num_threads(1)
    model, _family = build_random(DEFAULT.config)
    size = input_size(model.config)
    image, _truth = scene(size, size)
    frame = Frame(size, size, size, letterbox=False)
    pixels = frame.pixels(image)
    with torch.inference_mode():
        reference = [out.clone() for out in model.get_image_embeddings(pixels)]
    reference_masks = best_masks(model, reference, frame)
    found = runtimes(model, size)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in found}
    outputs = {}
    for _ in range(RUNS):
        for name, (_threads, run) in found.items():
            wall, cpu, outputs[name] = timed(lambda run=run: run(pixels))
            samples[name].append((wall, cpu))
    torch.set_num_threads(1)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n{DEFAULT.name}, random weights, {size}² input; {os.cpu_count()} CPUs, load average {load}; "
          f"median of {RUNS} alternating runs")
    print(f"{'runtime':<40} {'threads':>7} {'wall s':>7} {'CPU s':>7} {'cosine':>9} {'max|diff|':>10} {'mask IoU':>9}")
    for name, (threads, _run) in found.items():
        cosine, diff = agreement(reference, outputs[name])
        iou = min_iou(reference_masks, best_masks(model, outputs[name], frame))
        wall = statistics.median(t[0] for t in samples[name])
        cpu = statistics.median(t[1] for t in samples[name])
        print(f"{name:<40} {threads:>7} {wall:>7.2f} {cpu:>7.2f} {cosine:>9.5f} {diff:>10.2e} {iou:>9.4f}")
    print(f"\nClick path (1 torch thread), median of {max(RUNS, 5)}:")
    print(f"{'step':<50} {'wall ms':>8} {'CPU ms':>8}")
    for what, wall, cpu in click_rows(model, reference):
        print(f"{what:<50} {wall:>8.1f} {cpu:>8.1f}" if wall else what)


if __name__ == "__main__":
    main()
