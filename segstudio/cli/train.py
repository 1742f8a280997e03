"""``segstudio-cli train``: fine-tune SegFormer on a project folder from the command line.

Progress goes to stderr as one \\r-updated line plus a line per epoch; ``--json`` writes one JSON
object per line on stdout instead (events "progress", "epoch", "result") for scripts. Ctrl+C asks
the trainer to stop after the current batch; the state is saved and ``--resume`` continues. Under
``torchrun --nproc_per_node N`` the same command trains with DistributedDataParallel.

--minutes N trains within a time budget instead of a number of steps or epochs: the run measures
this machine, then chooses the crop, the batch and the steps so that the whole command ends within
N minutes (docs/training-budget.md); a budget too short to learn anything is refused in one line.

An existing SAVE_DIR/models/NAME is never replaced: the run goes to NAME-2 (and says so) unless
--overwrite. --resume continues the run with the settings recorded in its state (an option typed
with another value is refused) and leaves every file of the run as it was when it cannot resume.
A labelled image or mask that cannot be read is skipped and named; the rest is trained on and the
exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from dataclasses import asdict

from segstudio.cli.options import help_text


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The ``train`` subcommand; its run options come from the one options table."""
    p = subparsers.add_parser("train", help="fine-tune a SegFormer on the labelled images of a folder",
                              description=help_text(__doc__, skip_title=False),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("save_dir", help="folder with the masks (<stem>.png) and classes.txt")
    p.add_argument("--images", required=True, help="folder of the images")
    p.add_argument("--classes", help="class file to seed classes.txt (labelImg's predefined_classes.txt)")
    add_table_options(p)
    p.add_argument("--overwrite", action="store_true", help="let this run replace SAVE_DIR/models/NAME")
    p.add_argument("--resume", action="store_true",
                   help="continue SAVE_DIR/models/NAME with its recorded settings")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout instead of a progress bar")
    return p


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """One argparse option per row of :data:`segstudio.model.training.options.OPTIONS` (dest = the
    TrainConfig field). Options that define a run default to None, so that ``--resume`` can tell a
    typed option from a left-out one; ``train_resume.new_run_fields`` fills in the table's default."""
    from segstudio.model.training.options import OPTIONS

    length = parser.add_mutually_exclusive_group()
    for option in OPTIONS:
        target = length if option.name in ("epochs", "steps", "minutes") else parser
        shown = option.help if option.default is None or option.is_switch else \
            f"{option.help} (default {option.default})"
        default = None if option.defines_run else option.default
        if option.is_switch:
            target.add_argument(option.flag, dest=option.name, action="store_const",
                                const=not option.default, default=default, help=shown)
        else:
            target.add_argument(option.flag, dest=option.name, type=option.type, default=default,
                                help=shown, metavar=option.flag[2:].upper().replace("-", "_"))


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


def _config(args, project):
    """The TrainConfig of this command: typed options over defaults, or the resumed run's record."""
    from segstudio.core.errors import OptionError
    from segstudio.model.training.types import TrainConfig, config_from_options

    from .options import check_device
    from .train_resume import new_run_fields, resume_fields

    check_device(args.device)
    live = dict(device=args.device, name=args.name, num_workers=args.num_workers,
                keep_state=bool(args.keep_state))
    if not args.resume:
        fields = new_run_fields(args)
        if fields["minutes"] is not None:  # too short or not a number: said before torch loads
            from segstudio.model.training.budget import check_minutes, process_start
            reason = check_minutes(fields["minutes"])
            if reason:
                raise OptionError(reason)
            live["budget_start"] = process_start()  # the whole process counts
        return TrainConfig(**fields, **live, overwrite=args.overwrite), []
    if args.overwrite:
        raise OptionError("--resume continues SAVE_DIR/models/NAME and --overwrite replaces it: choose one")
    from segstudio.core.paths import model_folder

    # the state is read from the folder the run will write: never through a link
    record, notes = resume_fields(args, model_folder(project.save_dir, args.name), list(project.classes.names))
    if args.device != "auto":
        notes.append(f"--device {args.device} is harmless on a resume: the run's settings are unchanged")
    return config_from_options(record, **live, resume=True), notes


def _readable_entries(project) -> list[str]:
    """Drop labelled images whose image or mask cannot be read; one line each for the user.

    The header of each image and each whole mask is read once up front, so that one broken file
    is named and left out instead of ending the run half-way.
    """
    from segstudio.core.errors import SegStudioError
    from segstudio.core.images import image_size

    skipped, keep = [], []
    for entry in project.entries:
        if project.is_labelled(entry):
            try:
                image_size(entry.image_path)
                project.load_mask(entry)
            except SegStudioError as exc:
                skipped.append(f"skipped {entry.image_path.name}: {exc}")
                continue
        keep.append(entry)
    project.entries = keep
    return skipped


def run(args) -> int:
    from segstudio.core.project import Project
    from segstudio.model.training.train import train
    from segstudio.model.weights.model_source import AUTO, DEFAULT_ENCODER

    from .fetch_model import fetch_quietly_failing, resolve_model

    # Read-only: training reads the masks and writes only models/NAME, never the project's files.
    project = Project(args.images, args.save_dir, args.classes, read_only=True)
    if project.class_conflict is not None:  # masks keep the meaning they were written with
        print(f"warning: {project.class_conflict.message}; training with that recorded list", file=sys.stderr)
    for line in project.listing_warnings:  # images left out of training: said by name, every run
        print(f"warning: {line}", file=sys.stderr)
    config, notes = _config(args, project)
    if config.init.strip().lower() != AUTO:  # a catalogue model is downloaded here, with a progress bar
        resolve_model(config.init, project.save_dir)
    elif not config.resume:  # auto: the B0 ImageNet encoder, fetched once when the network allows;
        fetch_quietly_failing(DEFAULT_ENCODER)  # if it cannot be, the run's notes say how to get it
    skipped = _readable_entries(project)
    for line in notes + skipped:
        print(f"note: {line}", file=sys.stderr)
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
        if result.status == "failed":
            from .main import one_line
            saved = result.model_dir is not None and result.model_dir.is_dir()
            print(f"segstudio-cli train: error: {one_line(result.message)}"
                  + (f" (last state kept in {result.model_dir})" if saved else ""), file=sys.stderr)
        else:
            print(f"{result.message}\nmodel: {result.model_dir}", file=sys.stderr)  # it says how it ended
    status = {"finished": 0, "stopped": 130}.get(result.status, 1)
    return 1 if status == 0 and skipped else status
