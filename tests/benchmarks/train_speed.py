"""Training throughput (images/s) of our SegFormer next to transformers' in the same loop.

    python tests/benchmarks/train_speed.py                       # CPU, B0, 256² and 512²
    python tests/benchmarks/train_speed.py --device cuda --dtype bf16 --variants b0,b2 \
        --batch 8,16 --sizes 512 --channels-last
    python tests/benchmarks/train_speed.py --time-to-miou        # CPU seconds to val mIoU 0.9 (synthetic)

Each measurement: forward, bilinear upsample + CE, backward, AdamW step; a few warm-up steps, then
the mean over --steps. transformers is a test-only dependency, imported here only.
"""

# ruff: noqa: I001 (segstudio is imported before torch on purpose)
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import segstudio  # noqa: F401 - before torch: sets GOMP_SPINCOUNT as the app does (see segstudio/__init__.py)
import torch
import torch.nn.functional as F


def ours(variant: str, labels: int):
    from segstudio.model.segformer import SegFormer, config_for
    return SegFormer(config_for(variant, labels))


def theirs(variant: str, labels: int):
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    from segstudio.model.segformer import config_for
    c = config_for(variant, labels)
    cfg = SegformerConfig(hidden_sizes=list(c.hidden_sizes), depths=list(c.depths),
                          num_attention_heads=list(c.num_heads), sr_ratios=list(c.sr_ratios),
                          decoder_hidden_size=c.decoder_hidden_size, num_labels=labels)
    model = SegformerForSemanticSegmentation(cfg)
    return lambda x: model(pixel_values=x).logits, model


def measure(forward, params, device, batch, size, steps, dtype, channels_last) -> float:
    opt = torch.optim.AdamW(params, lr=1e-4)
    x = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 19, (batch, size, size), device=device)
    amp = torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()

    def step():
        opt.zero_grad(set_to_none=True)
        with amp:
            logits = forward(x)
        loss = F.cross_entropy(F.interpolate(logits.float(), size=(size, size), mode="bilinear"), y)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - t)


def speed_table(args) -> None:
    device = torch.device(args.device)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
    print(f"device {device}, dtype {args.dtype}, threads {torch.get_num_threads()}, "
          f"channels_last {args.channels_last}")
    print(f"{'variant':8} {'size':>5} {'batch':>5} {'ours img/s':>11} {'HF img/s':>9} {'ratio':>6}")
    for variant in args.variants.split(","):
        for size in [int(s) for s in args.sizes.split(",")]:
            for batch in [int(b) for b in args.batch.split(",")]:
                torch.manual_seed(0)
                m = ours(variant, 19).to(device)
                if args.channels_last:
                    m = m.to(memory_format=torch.channels_last)
                a = measure(m, m.parameters(), device, batch, size, args.steps, dtype, args.channels_last)
                fwd, hf = theirs(variant, 19)
                hf = hf.to(device)
                if args.channels_last:
                    hf = hf.to(memory_format=torch.channels_last)
                b = measure(fwd, hf.parameters(), device, batch, size, args.steps, dtype, args.channels_last)
                print(f"{variant:8} {size:5d} {batch:5d} {a:11.2f} {b:9.2f} {a / b:6.2f}", flush=True)


def time_to_miou(args) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
    from train_synth import make_project, tiny_config

    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig, train
    root = Path(tempfile.mkdtemp())
    project = Project(*make_project(root, count=32, size=128))  # as tests/model/test_train.py
    t0 = time.perf_counter()
    hit = {}

    def on_epoch(s):
        if s.val_miou >= args.target and "t" not in hit:
            hit["t"], hit["epoch"] = time.perf_counter() - t0, s.epoch

    result = train(project, TrainConfig(model_config=tiny_config(), size=128, batch=8, epochs=args.epochs,
                                        lr=args.lr, scale_range=(0.8, 1.25)), on_epoch=on_epoch,
                   should_stop=lambda: "t" in hit)
    total = time.perf_counter() - t0
    if hit:
        print(f"val mIoU {args.target} reached after {hit['t']:.1f} s (epoch {hit['epoch']})")
    else:
        print(f"not reached in {args.epochs} epochs ({total:.1f} s); best mIoU {result.best_miou:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    p.add_argument("--variants", default="b0")
    p.add_argument("--sizes", default="256,512")
    p.add_argument("--batch", default="2")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--time-to-miou", action="store_true")
    p.add_argument("--target", type=float, default=0.9)
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--lr", type=float, default=None, help="default: the engine's from-scratch lr")
    args = p.parse_args()
    time_to_miou(args) if args.time_to_miou else speed_table(args)


if __name__ == "__main__":
    main()
