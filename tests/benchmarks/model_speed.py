"""Our SegFormer against transformers' SegformerForSemanticSegmentation, side by side.

Same random weights in both (saved by transformers, loaded by segstudio's loader), same inputs,
same thread count. Measures eval inference (median of --runs after warm-up: the logits, then a
label map at the input's size as each library's users get it) and one training step
(forward, CE on bilinearly upsampled logits, backward, AdamW step) and prints a table with the
ratios and the max abs logit difference. On CPU the inference rows also hold ONNX Runtime running
our own exported graph (``segstudio-cli export-onnx``; onnxruntime comes with the ``assist``
extra, the row is left out without it) with the same number of threads, and our model with the
plain torch ops instead of oneDNN's fused kernels (``segstudio.model.segformer.ops.set_onednn``).
"segstudio" is ours as ``predict`` runs it: on a CPU with native bf16 a bf16 copy of the model
(``model.device.inference_dtype``), with a "segstudio float32" row beside it. That row mostly runs
right after the bf16 one and is slowed by it (B0 512², 2 threads: 42 ms alone or after
transformers, 51 ms median alternating with the bf16 model); ``inference_processes.py`` times
each precision in a process of its own.
Training steps: transformers with torch's default AdamW (a plain loop), ours as our loop trains
(fused AdamW, oneDNN forward on CPU, the loop's chunked upsample + cross-entropy, and the loop's
precision: bf16 autocast on a CPU with native bf16, ``model.device.training_autocast_dtype``), and
ours with the plain ops, ``F.interpolate`` + ``F.cross_entropy``, the default AdamW and no
autocast. Where the loop's precision is bf16 a row "transformers bf16" runs transformers under the
same autocast too, so the gain of the precision alone is visible.

    python tests/benchmarks/model_speed.py                       # CPU, B0, 512x512, 2 threads
    python tests/benchmarks/model_speed.py --device cuda --dtype bf16 --variants b0,b2
"""

# ruff: noqa: I001 (segstudio is imported before torch on purpose)
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import segstudio  # noqa: F401 - before torch: sets GOMP_SPINCOUNT as the app does (see segstudio/__init__.py)
import torch
import torch.nn.functional as F

ARCH = {
    "b0": dict(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2], decoder_hidden_size=256),
    "b1": dict(hidden_sizes=[64, 128, 320, 512], depths=[2, 2, 2, 2], decoder_hidden_size=256),
    "b2": dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 4, 6, 3], decoder_hidden_size=768),
    "b3": dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 4, 18, 3], decoder_hidden_size=768),
    "b4": dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 8, 27, 3], decoder_hidden_size=768),
    "b5": dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 6, 40, 3], decoder_hidden_size=768),
}
DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", choices=DTYPES, default="fp32", help="autocast dtype (fp32 = none)")
    p.add_argument("--variants", default="b0")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--labels", type=int, default=150)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--train-runs", type=int, default=5)
    p.add_argument("--train-batch", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-train", action="store_true")
    return p.parse_args()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved_ms(fns: dict[str, Callable[[], object]], runs: int, warmup: int,
                   device: torch.device) -> dict[str, tuple[float, float, float]]:
    """{name: (median ms, min ms, median CPU ms)}; the candidates take turns each round, so load
    from other processes on a shared machine hits all of them alike. The CPU time (this process,
    all threads) counts the work done rather than the waiting, so it moves less with the load."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync(device)
    times: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for i in range(runs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            time.sleep(0.05)  # the previous candidate's idle threads (ONNX Runtime's spin) settle first
            start, start_cpu = time.perf_counter(), time.process_time()
            fns[name]()
            sync(device)
            times[name].append((time.perf_counter() - start) * 1000)
            cpu[name].append((time.process_time() - start_cpu) * 1000)
    return {name: (statistics.median(t), min(t), statistics.median(cpu[name])) for name, t in times.items()}


def build_pair(variant: str, labels: int, folder: Path):
    """(transformers model, our model) holding the same random weights."""
    import transformers

    from segstudio.model.weights.checkpoints import load_model

    torch.manual_seed(0)
    hf = transformers.SegformerForSemanticSegmentation(
        transformers.SegformerConfig(num_labels=labels, **ARCH[variant]))
    with torch.no_grad():  # move BN stats off their defaults so the decoder fold is exercised
        bn = hf.decode_head.batch_norm
        bn.running_mean.normal_(0, 0.1)
        bn.running_var.uniform_(0.5, 1.5)
    hf.save_pretrained(folder)
    ours, _ = load_model(folder)
    return hf, ours


def plain_ops(model):
    """``model`` run with the plain torch ops instead of oneDNN's fused inference kernels."""
    from segstudio.model.segformer import ops

    def run(x):
        old = ops.set_onednn(False)
        try:
            return model(x)
        finally:
            ops.set_onednn(old)
    return run


def onnx_session(model, threads: int, spin: bool = True):
    """An onnxruntime CPU session on ``model`` exported as the CLI's export-onnx does, or None."""
    try:
        import onnxruntime as ort
    except ImportError:
        print("# onnxruntime is not installed (pip install -e .[assist]): no ONNX Runtime row",
              file=sys.stderr)
        return None
    from segstudio.model.onnx_export import export_onnx
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, path, verify=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if not spin:  # its threads would otherwise spin on the cores the next step needs
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def label_rows(variant: str, args: argparse.Namespace, device: torch.device, hf, ours, runners: dict,
               x: torch.Tensor) -> list[tuple]:
    """Image in, label map out at the input's size: what a person waits for. transformers as its
    documentation says (``SegformerImageProcessor.post_process_semantic_segmentation``: every
    class score upsampled, then the argmax); ours and ONNX Runtime's logits through our
    :func:`~segstudio.model.upsampled_labels.upsampled_labels`, as ``predict`` does (ONNX Runtime
    with its threads' spinning off here, which otherwise takes the cores from the step after it).
    Random weights predict noise, every pixel on an edge: the worst case for ours
    (``label_speed.py`` measures real photos). The last column counts the pixels whose label
    differs from transformers'."""
    from transformers import SegformerImageProcessor

    from segstudio.model.upsampled_labels import upsampled_labels
    processor, size = SegformerImageProcessor(), (args.size, args.size)

    def hf_labels():
        return processor.post_process_semantic_segmentation(hf(pixel_values=x), target_sizes=[size])[0]

    fns = {"transformers": hf_labels, "segstudio": lambda: upsampled_labels(runners["segstudio"](x)[0], size)}
    session = onnx_session(ours, args.threads, spin=False) if "onnxruntime" in runners else None
    if session is not None:
        fns["onnxruntime"] = lambda: upsampled_labels(
            torch.from_numpy(session.run(["logits"], {"pixel_values": x.numpy()})[0])[0], size)
    with torch.inference_mode():
        labels = {name: fn().long() for name, fn in fns.items()}
        timed = interleaved_ms(fns, args.runs, 2, device)
    return [(variant, f"labels b1 {args.size}", name, *t,
             float((labels[name] != labels["transformers"]).sum())) for name, t in timed.items()]


def bench_variant(variant: str, args: argparse.Namespace, device: torch.device) -> list[tuple]:
    amp = DTYPES[args.dtype]
    with tempfile.TemporaryDirectory() as tmp:
        hf, ours = build_pair(variant, args.labels, Path(tmp))
    hf.to(device).eval()
    ours.to(device).eval()
    from segstudio.model.device import inference_dtype
    runners = {"transformers": lambda x: hf(pixel_values=x).logits, "segstudio": ours}
    if device.type == "cpu" and amp is None:
        predicting = inference_dtype(device)  # as Predictor runs it: a bf16 copy where the CPU has bf16
        if predicting is not None:
            low = copy.deepcopy(ours).to(predicting).eval()
            runners["segstudio"] = lambda x: low(x.to(predicting)).float()
            runners["segstudio float32"] = ours
        runners["segstudio plain ops"] = plain_ops(ours)
        session = onnx_session(ours, args.threads)
        if session is not None:
            runners["onnxruntime"] = lambda x: torch.from_numpy(
                session.run(["logits"], {"pixel_values": x.numpy()})[0])

    def autocast():
        return torch.autocast(device.type, dtype=amp, enabled=amp is not None)

    x = torch.randn(1, 3, args.size, args.size, device=device)
    rows = []
    with torch.inference_mode(), autocast():
        outputs = {name: run(x).float() for name, run in runners.items()}
        timed = interleaved_ms({n: (lambda r=r: r(x)) for n, r in runners.items()}, args.runs, 3,
                               device)
    diffs = {n: (outputs["transformers"] - out).abs().max().item() for n, out in outputs.items()}
    rows += [(variant, f"inference b1 {args.size}", n, *t, diffs[n]) for n, t in timed.items()]
    diff = diffs.get("segstudio float32", diffs["segstudio"])  # the training rows run the float32 model
    if amp is None:
        rows += label_rows(variant, args, device, hf, ours, runners, x)

    if not args.no_train:
        xb = torch.randn(args.train_batch, 3, args.size, args.size, device=device)
        yb = torch.randint(0, args.labels, (args.train_batch, args.size, args.size), device=device)
        from segstudio.model.training.losses import build_loss
        loop_loss = build_loss("ce")
        from segstudio.model.device import training_autocast_dtype
        loop_dtype = amp if amp is not None else training_autocast_dtype(device)
        candidates = [("transformers", hf, amp), ("segstudio", ours, loop_dtype), ("segstudio plain ops", ours, amp)]
        if loop_dtype is not None and amp is None:
            candidates.insert(1, ("transformers bf16", hf, loop_dtype))
        steps = {}
        for name, model, dtype in candidates:
            run = ours if name.startswith("segstudio") else runners["transformers"]
            ours_now = name == "segstudio"  # as our loop trains: fused AdamW, oneDNN forward
            opt = torch.optim.AdamW(model.parameters(), lr=1e-6,
                                    fused=True if ours_now and device.type in ("cpu", "cuda") else None)

            def step(model=model, run=run, opt=opt, ours_now=ours_now, dtype=dtype) -> None:
                from segstudio.model.segformer import ops
                old = ops.set_onednn(ours_now)
                model.train()
                try:
                    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                        logits = run(xb)
                        if not ours_now:
                            up = F.interpolate(logits, size=yb.shape[-2:], mode="bilinear", align_corners=False)
                            loss = F.cross_entropy(up.float(), yb, ignore_index=255)
                    if ours_now:  # as Optimiser.step: the loss outside autocast, on float32 logits
                        loss = loop_loss(logits.float(), yb)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                finally:
                    ops.set_onednn(old)

            steps[name] = step
        timed = interleaved_ms(steps, args.train_runs, 1, device)
        rows += [(variant, f"train step b{args.train_batch}", n, *t, diff) for n, t in timed.items()]
        ours.eval()
    return rows


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    from segstudio.model.device import describe_device, pick_device

    device = pick_device(args.device)
    print(f"# {describe_device(device)}, torch {torch.__version__}, dtype {args.dtype}, "
          f"threads {torch.get_num_threads()}", file=sys.stderr)
    rows = []
    for variant in args.variants.split(","):
        rows += bench_variant(variant.strip().lower(), args, device)
    base = {(r[0], r[1]): r[3] for r in rows if r[2] == "transformers"}
    base_cpu = {(r[0], r[1]): r[5] for r in rows if r[2] == "transformers"}
    print(f"{'variant':7} {'task':20} {'model':20} {'median ms':>10} {'min ms':>8} "
          f"{'speed-up':>9} {'CPU ms':>8} {'CPU x':>7} {'difference':>12}")
    for variant, task, name, ms, fastest, cpu_ms, diff in rows:
        ratio = base[(variant, task)] / ms
        cpu_ratio = base_cpu[(variant, task)] / cpu_ms
        print(f"{variant:7} {task:20} {name:20} {ms:10.1f} {fastest:8.1f} {ratio:8.2f}x "
              f"{cpu_ms:8.0f} {cpu_ratio:6.2f}x {diff:12.3g}")
    print("speed-up = transformers median / this median; CPU x = the same for the median CPU time "
          "of the process (all threads); runs interleaved round-robin; difference = max |logit "
          "difference| from transformers (labels rows: pixels labelled otherwise)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
