"""B0 inference as each library's user gets it: transformers and segstudio each in a fresh process.

Plain script (not collected by pytest):

    python tests/benchmarks/inference_processes.py [--rounds 3] [--runs 15] [--size 512] [--threads 2]

``model_speed.py`` times both models in one process, the one segstudio's import has tuned
(``GOMP_SPINCOUNT``, glibc's allocator: segstudio/__init__.py, model/malloc.py), so transformers
runs there faster than in a program of its own. Here each side runs in its own process, as its
users run it: a transformers process that never imports segstudio, and a segstudio process that
imports it first, as the app and the CLI do ("segstudio" as ``predict`` runs it: a bf16 copy of the
model on a CPU with native bf16; "segstudio float32" beside it). The same random B0 weights (saved by transformers,
loaded by segstudio's loader), the same input and thread count; the processes take turns, round
after round, so load from other programs hits both alike. Prints each round's medians and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = r'''
import json, statistics, sys, time
side, folder, size, runs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if side.startswith("segstudio"):
    import segstudio  # first, as the app and the CLI import it
import torch
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(1, 3, size, size)
if side.startswith("segstudio"):
    from segstudio.model.device import inference_dtype
    from segstudio.model.weights.checkpoints import load_model
    model, _ = load_model(folder)
    model.eval()
    dtype = inference_dtype("cpu") if side == "segstudio" else None  # as Predictor runs it
    if dtype is not None:
        model = model.to(dtype)
    run = lambda: model(x if dtype is None else x.to(dtype)).float()
else:
    import transformers
    model = transformers.SegformerForSemanticSegmentation.from_pretrained(folder).eval()
    run = lambda: model(pixel_values=x).logits
times = []
with torch.inference_mode():
    for i in range(3 + runs):
        start = time.perf_counter()
        run()
        if i >= 3:
            times.append((time.perf_counter() - start) * 1000)
print(json.dumps({"median": statistics.median(times), "min": min(times)}))
'''


SIDES = ("transformers", "segstudio", "segstudio float32")


def child(side: str, folder: Path, args: argparse.Namespace) -> dict:
    env = dict(os.environ)
    env.pop("GOMP_SPINCOUNT", None)  # each process starts as its user's would
    if side == "transformers":
        env["PYTHONPATH"] = ""
    else:
        env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", CHILD, side, str(folder), str(args.size), str(args.runs),
                          str(args.threads)], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.SegformerConfig(num_labels=150, hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2],
                                          decoder_hidden_size=256)
    with tempfile.TemporaryDirectory() as tmp:
        transformers.SegformerForSemanticSegmentation(config).save_pretrained(tmp)
        rows = []
        for round_ in range(args.rounds):
            sides = SIDES if round_ % 2 == 0 else SIDES[::-1]
            got = {side: child(side, Path(tmp), args) for side in sides}
            rows.append(got)
            hf = got["transformers"]["median"]
            print(f"round {round_ + 1}: transformers {hf:.1f} ms, " + ", ".join(
                f"{side} {got[side]['median']:.1f} ms: {hf / got[side]['median']:.2f}x" for side in SIDES[1:])
                + f" (load {os.getloadavg()[0]:.1f})", flush=True)
    hf = statistics.median(r["transformers"]["median"] for r in rows)
    ours = {side: statistics.median(r[side]["median"] for r in rows) for side in SIDES[1:]}
    print(f"B0 {args.size}² batch 1, {args.threads} threads, each in its own process: transformers {hf:.1f} ms, "
          + ", ".join(f"{side} {ms:.1f} ms: {hf / ms:.2f}x" for side, ms in ours.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
