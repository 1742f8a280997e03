"""The bf16 model's own CPU inference paths against the torch ops they replace, in one process.

A bf16 copy of B0 (as ``predict`` runs on a CPU with native bf16) is timed four ways, taking
turns each round: with the plain ops (SDPA for attention with two or more heads, ``F.interpolate``
for the decoder's upsampling), with each of our two paths alone (``ops._bf16_attention``,
``AllMLPHead._sum_stages_bf16``), and with both, as the package runs. Printed: median and
minimum ms of a forward, and the largest logit difference of each from the float32 model (the
plain bf16 row shows what bf16 costs by itself). Same random weights throughout; the decoder's
products only run where ``head._products_pay`` says so (inputs up to 512²).

    PYTHONPATH=. python tests/benchmarks/bf16_paths.py                 # 512x512, 2 threads
    PYTHONPATH=. python tests/benchmarks/bf16_paths.py --size 1024 --runs 10
"""

# ruff: noqa: I001 (segstudio is imported before torch on purpose)
from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

import segstudio  # noqa: F401 - before torch, as the app
import torch
import torch.nn.functional as F

from segstudio.model.segformer import head, ops

WAYS = ("plain ops", "attention", "decoder", "both")


def build(folder: Path, labels: int):
    """(float32 model, bf16 copy) of B0 with transformers' random initialisation."""
    import transformers

    from segstudio.model.weights.checkpoints import load_model
    torch.manual_seed(0)
    transformers.SegformerForSemanticSegmentation(transformers.SegformerConfig(num_labels=labels)).save_pretrained(folder)
    model, _ = load_model(folder)
    model.eval()
    return model, copy.deepcopy(model).to(torch.bfloat16).eval()


def use(way: str, ours: dict) -> None:
    """Switch the two paths on or off for ``way`` (``ours`` holds the package's functions)."""
    ops._bf16_attention = ours["attention"] if way in ("attention", "both") else F.scaled_dot_product_attention
    head._products_pay = ours["decoder"] if way in ("decoder", "both") else (lambda features: False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--runs", type=int, default=25)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--labels", type=int, default=150)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model, low = build(Path(tmp), args.labels)
    ours = {"attention": ops._bf16_attention, "decoder": head._products_pay}
    x = torch.randn(1, 3, args.size, args.size)
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    with torch.inference_mode():
        exact = model(x)
        error = {}
        for way in WAYS:
            use(way, ours)
            error[way] = (low(x.bfloat16()).float() - exact).abs().max().item()
        for i in range(args.runs + 2):
            for way in WAYS[i % len(WAYS):] + WAYS[:i % len(WAYS)]:
                use(way, ours)
                time.sleep(0.02)
                start = time.perf_counter()
                low(x.bfloat16())
                if i >= 2:  # two rounds of warm-up
                    times[way].append(1000 * (time.perf_counter() - start))
    use("both", ours)
    print(f"# B0 bf16 {args.size}x{args.size}, {args.threads} threads, {args.runs} runs each, turns taken")
    print(f"{'way':<12}{'median ms':>11}{'min ms':>9}{'max |logit - float32|':>24}")
    for way in WAYS:
        print(f"{way:<12}{statistics.median(times[way]):>11.2f}{min(times[way]):>9.2f}{error[way]:>24.5f}")


if __name__ == "__main__":
    main()
