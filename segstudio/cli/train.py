"""``segstudio-cli train``: fine-tune SegFormer on a project folder from the command line.

Progress goes to stderr as one \\r-updated line plus a line per epoch; ``--json`` writes one JSON
object per line on stdout instead (events "progress", "epoch", "result") for scripts. Ctrl+C asks
the trainer to stop after the current batch; the state is saved and ``--resume`` continues. Under
``torchrun --nproc_per_node N`` the same command trains with DistributedDataParallel.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from dataclasses import asdict


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("train", help="fine-tune a SegFormer on the labelled images of a folder",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("save_dir", help="folder with the masks (<stem>.png) and classes.txt")
    p.add_argument("--images", required=True, help="folder of the images")
    p.add_argument("--classes", help="class file to seed classes.txt (labelImg's predefined_classes.txt)")
    p.add_argument("--model", default="b0", help="b0..b5 (from scratch), a public checkpoint or a model folder")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int)
    length.add_argument("--steps", type=int)
    p.add_argument("--size", type=int, default=512, help="training crop size (multiple of 32)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float,
                   help="learning rate (default: the recipe's, 6e-5 pretrained, 3e-3 from scratch)")
    p.add_argument("--loss", default="ce", help="e.g. ce, ce+dice, focal, 0.5*ce+1.0*dice")
    p.add_argument("--class-weights", action="store_true", help="median-frequency class weights")
    p.add_argument("--no-augment", dest="augment", action="store_false",
                   help="no random resize, flip or colour jitter (to check a model can fit the data)")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--out", default="model", help="model name: SAVE_DIR/models/NAME")
    p.add_argument("--resume", action="store_true", help="continue from SAVE_DIR/models/NAME")
    p.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grad-clip", type=float)
    p.add_argument("--no-amp", action="store_true", help="full precision on CUDA")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout instead of a progress bar")
    return p


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def _bar(progress) -> str:
    done = progress.step / max(progress.total_steps, 1)
    filled = int(done * 24)
    return (f"\repoch {progress.epoch}/{progress.epochs} [{'#' * filled}{'.' * (24 - filled)}] "
            f"{progress.step}/{progress.total_steps} loss {progress.loss:.4f} lr {progress.lr:.2e} "
            f"{progress.images_per_s:.1f} img/s ETA {_fmt_time(progress.eta_s)}  ")


def _iou_table(names, history) -> str:
    if not history:
        return ""
    last = history[-1]
    width = max(len(n) for n in names)
    rows = [f"{'class':<{width}}  IoU"]
    for name, iou in zip(names, last.val_iou):
        rows.append(f"{name:<{width}}  {'—' if iou is None else f'{iou:.3f}'}")
    rows.append(f"{'mIoU':<{width}}  {last.val_miou:.3f}")
    return "\n".join(rows)


def run(args) -> int:
    from segstudio.core.project import Project
    from segstudio.model.train import TrainConfig, train

    project = Project(args.images, args.save_dir, args.classes)
    config = TrainConfig(init=args.model, epochs=args.epochs, steps=args.steps, size=args.size,
                         batch=args.batch, lr=args.lr, loss=args.loss, class_weights=args.class_weights,
                         augment=args.augment,
                         label_smoothing=args.label_smoothing, device=args.device, name=args.out,
                         seed=args.seed, num_workers=args.workers, resume=args.resume,
                         grad_clip=args.grad_clip, amp=not args.no_amp)
    import os
    main_rank = os.environ.get("RANK", "0") == "0"
    stop = {"requested": False}

    def on_sigint(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        if main_rank and not args.json:
            print("\nstopping after this batch (Ctrl+C again to abort)...", file=sys.stderr)

    def emit(event: str, payload: dict) -> None:
        print(json.dumps({"event": event, **payload}), flush=True)

    def on_progress(p) -> None:
        if args.json:
            emit("progress", asdict(p))
        else:
            print(_bar(p), end="", file=sys.stderr, flush=True)

    def on_epoch(s) -> None:
        if args.json:
            emit("epoch", asdict(s))
        else:
            print(f"\repoch {s.epoch}: loss {s.train_loss:.4f}  val mIoU {s.val_miou:.3f}  "
                  f"pixel acc {s.val_pixel_accuracy:.3f}  {s.seconds:.1f}s" + " " * 30, file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = train(project, config, on_progress if main_rank else None, on_epoch if main_rank else None,
                       lambda: stop["requested"])
    finally:
        signal.signal(signal.SIGINT, previous)
    if not main_rank:
        return 0 if result.status != "failed" else 1
    if args.json:
        emit("result", {"status": result.status, "message": result.message,
                        "model_dir": str(result.model_dir), "notes": result.notes,
                        "best_miou": None if math.isnan(result.best_miou) else result.best_miou})
    else:
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        table = _iou_table(project.classes.names, result.history)
        if table:
            print(table, file=sys.stderr)
        print(f"{result.status}: {result.message}\nmodel: {result.model_dir}", file=sys.stderr)
    return {"finished": 0, "stopped": 130}.get(result.status, 1)
