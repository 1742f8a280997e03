"""Several annotators on one folder, for real: processes driving the session controller (no Qt).

Used by tests/robustness/test_team_processes.py (a short run) and tests/benchmarks/team_soak.py (a
long one). Each worker is one window: a ProjectSession with queued pools and manual timers, named
after its person. It picks random images, paints strokes, saves, beats its heartbeat, now and then
tries to add a class (refused while others edit, or done and then seen by the others) and now and
then steps away (its claims go). Every stroke is ONE pixel at a place no other stroke ever uses
(worker ``w`` of ``n`` paints pixels ``p`` with ``p % n == w``, each at most once), with a value it
chose; so at the end every saved stroke must still be on disk, whoever saved the image later,
else an update was lost. Each worker logs, line by line (flushed: a kill -9 keeps what was
logged), the strokes it saved (``saved``), the ones that went to a conflict file (``conflict``),
and when it started and stopped editing each image (``edit``/``left``, on the system-wide
monotonic clock), so the parent checks that no image was edited by two at once.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

W, H = 48, 32
CLASSES = ["background", "cat", "dog", "bird"]


def make_folder(folder: Path, count: int) -> Path:
    """A project of ``count`` small photos and a class list."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(folder / f"img{i:02d}.jpg")
    (folder / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    return folder


class _Worker:
    """One window (see the module docstring)."""

    def __init__(self, folder: Path, person: str, slot: int, slots: int, log: Path, seed: int) -> None:
        from segstudio.application.pools import ManualTimer, QueuedPools
        from segstudio.application.session.controller import ProjectSession

        self.folder, self.person, self.slot, self.slots = folder, person, slot, slots
        self.rng = random.Random(seed)
        self.pools = QueuedPools()
        self.timers: list[ManualTimer] = []
        self.session = ProjectSession(self.pools, self._timer)
        self.session.person = person
        self.session.ask_reload_classes = lambda: True
        self.conflicts: list[str] = []
        self.session.save_conflict.connect(self.conflicts.append)
        self.session.save_failed.connect(lambda message: self.say("failed", message.splitlines()[0][:200]))
        self.session.team_said.connect(lambda message: self.say("said", message.splitlines()[0][:200]))
        self.log = open(log, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the worker's life
        self.used: dict[int, int] = {}  # pixels used per image (the next free one of this slot)
        self.painted: list[tuple[int, int, int, int]] = []  # strokes not saved yet: (image, x, y, value)
        self.editing = -1

    def _timer(self, interval, callback):
        from segstudio.application.pools import ManualTimer

        self.timers.append(ManualTimer(interval, callback))
        return self.timers[-1]

    def say(self, *words: object) -> None:
        self.log.write(" ".join(str(w) for w in words) + "\n")

    def run(self) -> None:
        self.pools.run_pending()

    def beat(self) -> None:
        if self.timers[1].fire():
            self.run()
        self._note_editing()

    def open(self) -> None:
        self.session.open_project(self.folder)
        self.say("opened")

    def _note_editing(self) -> None:
        """Log when this window starts or stops editing an image (taken: not editing)."""
        s = self.session
        now = s.index if s.current is not None and s.taken is None and not s.read_only else -1
        if now != self.editing:
            if self.editing >= 0:  # taken over (it slept): the claim went before this line
                self.say("left", self.editing, time.monotonic())
            if now >= 0:
                self.say("edit", now, time.monotonic())
            self.editing = now

    def go(self, index: int) -> None:
        self._leave()
        self.session.load_index(index)
        self.run()
        self._note_editing()

    def _leave(self) -> None:
        """Leaving saves the image (autosave) and releases it once written. "left" is logged first:
        no stroke is painted after it, and the claim is only released later (an editing span as
        logged lies within the claim's span, so two spans that overlap are two editors at once)."""
        if self.editing >= 0:
            self.say("left", self.editing, time.monotonic())
            self.editing = -1
        if self.session.current is None:
            return
        self.session.flush()
        self.run()
        self._settle()

    def _settle(self) -> None:
        """After writes ran: strokes saved, or beside in a conflict file."""
        if not self.painted or self.session.dirty or self.session.has_unsaved_snapshots():
            return
        kind = "conflict" if self.conflicts else "saved"
        for stroke in self.painted:
            self.say(kind, *stroke)
        self.painted, self.conflicts = [], []

    def stroke(self) -> bool:
        s = self.session
        if s.document is None or s.taken or s.read_only or s.mask_blocked:
            return False  # (a mask that did not load, values of a class not read yet: no painting, as in the window)
        index = s.index
        used = self.used.get(index, 0)
        pixel = used * self.slots + self.slot
        if pixel >= W * H:
            return False
        self.used[index] = used + 1
        x, y = pixel % W, pixel // W
        value = 1 + self.rng.randrange(len(s.project.classes) - 1)
        if s.document.fill_rect(x, y, x, y, value) is None:
            return False
        self.painted.append((index, x, y, value))
        return True

    def save(self) -> None:
        self.session.save_async()
        self.run()
        self._settle()

    def add_class(self, count: int) -> str:
        name = f"{self.person}-{count}"
        try:
            with self.session.project_wide("add a class"):
                self.session.project.classes.add(name)
                self.session.project.save_classes()
        except Exception as exc:  # noqa: BLE001 - a refusal is the expected answer
            self.say("class-refused", name, str(exc).splitlines()[0][:80])
            return "refused"
        self.say("class-added", name)
        return "added"

    def step_away(self, empty: Path) -> None:
        """Open another (empty) folder for a moment: every claim here goes."""
        self._leave()
        self.session.open_project(empty)
        self.run()
        self._note_editing()
        self.say("away")


def work(folder: str, person: str, slot: int, slots: int, log: str, seconds: float, seed: int) -> None:
    """A worker process: random choices for ``seconds`` (see the module docstring)."""
    worker = _Worker(Path(folder), person, slot, slots, Path(log), seed)
    empty = Path(folder).parent / f"elsewhere-{person}"
    empty.mkdir(exist_ok=True)
    worker.open()
    rng, count, added = worker.rng, len(worker.session.project.entries), 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        roll = rng.random()
        if worker.session.project is None or Path(worker.session.project.save_dir) != Path(folder).resolve():
            worker.open()  # back from elsewhere
            worker.go(rng.randrange(count))
        elif roll < 0.25:
            worker.go(rng.randrange(count))
        elif roll < 0.75:
            for _ in range(rng.randint(1, 3)):
                worker.stroke()
            if rng.random() < 0.5:
                worker.save()
        elif roll < 0.9:
            worker.beat()
        elif roll < 0.96:
            added += 1
            worker.add_class(added)
        else:
            worker.step_away(empty)
        time.sleep(rng.random() * 0.01)
    worker._leave()  # logs "left" for the image on screen: no stroke after it
    worker.session.shutdown()  # the claim goes here; the session still shows the image, so asking
    worker.run()  # _note_editing now would log a new "edit" that no "left" ends (a false overlap)
    worker.say("done")


@dataclass
class Findings:
    """What the parent found on disk against the workers' logs."""

    saved: int = 0
    in_conflict_files: int = 0
    lost: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    classes_added: int = 0
    classes_refused: int = 0
    classes_missing: list[str] = field(default_factory=list)
    taken_views: int = 0


def check(folder: Path, logs: dict[str, Path], killed: dict[str, float]) -> Findings:
    """Every logged stroke on disk (or in a conflict file), and no two editors of one image at once.

    ``killed``: person -> monotonic time of the kill (their last edit interval ends there)."""
    from segstudio.core.masks import read_mask

    found = Findings()
    masks: dict[int, np.ndarray | None] = {}
    intervals: dict[int, list[tuple[float, float, str]]] = {}
    conflict_masks = [read_mask(p) for p in sorted((folder / "conflicts").glob("*.png"))] \
        if (folder / "conflicts").is_dir() else []
    names = (folder / "classes.txt").read_text().split("\n")
    for person, log in logs.items():
        open_edit: dict[int, float] = {}
        for line in _text(log).splitlines():
            word, *rest = line.split(" ")
            if word in ("saved", "conflict"):
                index, x, y, value = (int(v) for v in rest)
                if index not in masks:
                    path = folder / f"img{index:02d}.png"
                    masks[index] = read_mask(path) if path.exists() else None
                mask = masks[index]
                if mask is not None and mask[y, x] == value:
                    found.saved += 1
                elif any(m[y, x] == value for m in conflict_masks):
                    found.in_conflict_files += 1
                else:
                    found.lost.append(f"{person}: img{index:02d} ({x}, {y}) = {value}")
            elif word == "edit":
                open_edit[int(rest[0])] = float(rest[1])
            elif word == "left":
                index = int(rest[0])
                intervals.setdefault(index, []).append((open_edit.pop(index, 0.0), float(rest[1]), person))
            elif word == "class-added":
                found.classes_added += 1
                if rest[0] not in names:
                    found.classes_missing.append(rest[0])
            elif word == "class-refused":
                found.classes_refused += 1
        for index, start in open_edit.items():  # still editing when killed
            intervals.setdefault(index, []).append((start, killed.get(person, float("inf")), person))
    for index, spans in intervals.items():
        spans.sort()
        for (_, e1, p1), (s2, _, p2) in zip(spans, spans[1:]):
            if s2 < e1 and p1 != p2:
                found.overlaps.append(f"img{index:02d}: {p1} until {e1:.3f}, {p2} from {s2:.3f}")
    return found


def run_team(root: Path, people: int, seconds: float, images: int, kill_after: float | None,
             seed: int = 1) -> tuple[Findings, dict]:
    """Start ``people`` workers on one new folder under ``root`` for ``seconds``; kill -9 the last one
    after ``kill_after`` seconds (None: none killed); check. Returns the findings and counts."""
    import multiprocessing

    folder = make_folder(root / "shared", images)
    logs = {f"p{i}": root / f"p{i}.log" for i in range(people)}
    context = multiprocessing.get_context("spawn")
    processes = {person: context.Process(target=work, args=(str(folder), person, i, people, str(log),
                                                               seconds, seed + i))
                 for i, (person, log) in enumerate(logs.items())}
    for process in processes.values():
        process.start()
    killed: dict[str, float] = {}
    orphans: list[str] = []
    victim = f"p{people - 1}"
    if kill_after is not None:
        deadline = time.monotonic() + kill_after + 60
        while time.monotonic() < deadline and "opened" not in _text(logs[victim]):
            time.sleep(0.05)  # its time starts once it has opened the folder
        time.sleep(kill_after)
        # Its last editing span ends when the signal is sent: no other window can take its claim
        # before the signal is delivered (its process lives until then), and it paints no more after.
        killed[victim] = time.monotonic()
        processes[victim].kill()  # SIGKILL: no cleanup, its claims stay on disk
        processes[victim].join(10)
        orphans = claims_on_disk(folder, victim)
    for process in processes.values():
        process.join(seconds + 120)
    findings = check(folder, logs, killed)
    counts = {"exit codes": {p: pr.exitcode for p, pr in processes.items()},
              "strokes saved": findings.saved, "strokes in conflict files": findings.in_conflict_files,
              "strokes lost": len(findings.lost), "overlapping editors": len(findings.overlaps),
              "classes added": findings.classes_added, "class additions refused": findings.classes_refused,
              "claims the killed one left": len(orphans), "claims live after the run": len(leftover_claims(folder))}
    return findings, counts


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def claims_on_disk(folder: Path, person: str) -> list[str]:
    """The stems whose claim file on disk names ``person`` (read raw, live or not)."""
    from segstudio.core.claims import claims_folder

    found = []
    for path in claims_folder(folder).glob("*.claim"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("person") == person:
            found.append(record.get("stem"))
    return found


def leftover_claims(folder: Path) -> dict:
    """The claims a fresh window sees (a killed process's are stale at once on its own host)."""
    from segstudio.core.claims import ClaimBook

    book = ClaimBook(folder, "checker")
    try:
        return {stem: claim.person for stem, claim in book.others().items()}
    finally:
        book.release_all()


def clean(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":  # a quick manual run
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result, numbers = run_team(Path(tmp), 3, 5.0, 6, 2.0)
        print(json.dumps(numbers, indent=1))
