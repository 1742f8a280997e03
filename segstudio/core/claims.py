"""Per-image claims: several annotators on one shared folder, each image edited by one at a time.

A window that opens an image to edit it first *claims* it: a small JSON file
``<save_dir>/.segstudio/claims/<key>.claim`` naming the person, host, process (pid and its start
time), the window's random session token, the image's stem, since when, and a heartbeat (a counter
and the owner's clock). The file is created complete and atomically: written to a temporary file,
then hard-linked to its name (``link`` fails when the name exists, also on NFS and SMB shares,
where ``O_EXCL`` was long unreliable), so a reader never sees half a claim.

No OS lock is relied on (network drives drop or fake them). A claim is *stale*, and may be taken
over, when

- its process is provably gone: same host, pid not alive or reused (``core.platform_io``), or this
  very process when no session of it holds the token any more (a crashed window): at once;
- its heartbeat has not moved for :data:`CLAIM_TIMEOUT_S` seconds *as observed here*: the
  observer remembers the counter it last saw and when it saw it on its own monotonic clock, so
  clocks that differ between hosts never matter (the owner's time in the file is only shown);
- it cannot be read as a genuine claim (a link, a FIFO, huge, fields out of range, a path in a
  field): said once in one line and treated as stale, never followed.

The owner refreshes its claims with :meth:`ClaimBook.heartbeat` on a timer every
:data:`HEARTBEAT_S` seconds; if it finds one of them taken over (it was asleep for longer than the
timeout), it gives it up and says so. A save still checks the mask on disk before writing (see
``application.session.save_queue``), so even then nothing is overwritten.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import math
import os
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from . import platform_io
from .atomic import atomic_write_text, temporary_next_to
from .errors import SaveError, SegStudioError
from .paths import STATE_FOLDER, own_path
from .portable_names import name_key
from .project_lock import LATEST_START, MAX_HOST, MAX_PID, printable
from .safe_read import read_json

CLAIMS_FOLDER = "claims"
CLAIM_SUFFIX = ".claim"
CLAIM_LIMIT = 4096  # a genuine claim is about 300 bytes
HEARTBEAT_S = 10.0  # how often an owner refreshes its claims
CLAIM_TIMEOUT_S = 60.0  # a claim whose heartbeat did not move for this long (observed here) is stale
MAX_TEXT = 255  # person, stem: at most this many characters
MAX_BEAT = 2**53  # a heartbeat counter beyond this is no real counter
PERSON_ENV = "SEGSTUDIO_PERSON"  # who the claims name, when set (else the OS user)

_LIVE_TOKENS: set[str] = set()  # session tokens of the claim books open in this process


def default_person() -> str:
    """Who this window's claims name: ``$SEGSTUDIO_PERSON``, else the OS user name, else "someone"."""
    person = os.environ.get(PERSON_ENV, "").strip()
    if not person:
        try:
            person = getpass.getuser()
        except (OSError, KeyError, ImportError):
            person = ""
    return clean_text(person) or "someone"


def clean_text(text: str) -> str:
    """``text`` cut to :data:`MAX_TEXT` characters, with no path separators or unprintable characters
    (a claim names a person, never a path: it is shown and put in a conflict file's name)."""
    return "".join(c for c in printable(text) if c not in "/\\:")[:MAX_TEXT].strip()


@dataclass(frozen=True)
class Claim:
    """One claim file's content."""

    stem: str
    person: str
    host: str
    pid: int
    started: float  # when the owning process started (tells a reused pid)
    token: str  # the owning window's session token
    since: float  # when it was claimed (the owner's clock: shown, never compared)
    beat: int = 0
    beat_time: float = 0.0

    def describe(self) -> str:
        """"alice on host2 since 10:42" (the host only when it is not this one)."""
        when = time.strftime("%H:%M", time.localtime(self.since)) if self.since else "?"
        here = "" if self.host == socket.gethostname() else f" on {printable(self.host)}"
        return f"{self.person}{here} since {when}"

    @classmethod
    def from_json(cls, data: object, stem: str | None = None) -> Claim | None:
        """The claim a file's JSON names, or None when it is not a genuine one (see the module doc)."""
        if not isinstance(data, dict):
            return None
        texts = [data.get(k) for k in ("stem", "person", "host", "token")]
        if not all(isinstance(t, str) and 0 < len(t) <= MAX_TEXT for t in texts):
            return None
        claimed, person, host, token = (str(t) for t in texts)
        if len(host) > MAX_HOST or clean_text(person) != person or any(c in claimed for c in "/\\\0"):
            return None
        if stem is not None and claimed != stem:
            return None
        pid, beat = data.get("pid"), data.get("beat")
        if type(pid) is not int or not 0 < pid <= MAX_PID or type(beat) is not int or not 0 <= beat <= MAX_BEAT:
            return None
        times = [data.get(k) for k in ("started", "since", "beat_time")]
        if not all(_is_time(t) for t in times):
            return None
        started, since, beat_time = (float(t) for t in times)  # type: ignore[arg-type]
        return cls(claimed, person, host, pid, started, token, since, beat, beat_time)


def _is_time(value: object) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float))
            and math.isfinite(value) and 0 <= value <= LATEST_START)


class ClaimTaken(SegStudioError):
    """The image is being edited by someone else."""

    def __init__(self, holder: Claim) -> None:
        self.holder = holder
        super().__init__(f"taken by {holder.describe()}")


def claims_folder(save_dir: str | os.PathLike, create: bool = False) -> Path:
    """``<save_dir>/.segstudio/claims`` (SaveError when a link stands at either level)."""
    return own_path(save_dir, STATE_FOLDER, CLAIMS_FOLDER, create=create)


def claim_name(stem: str) -> str:
    """The claim file's name for image ``stem``: a hash of its case-folded key, so that any stem
    (a name Windows cannot hold, one differing by case only) maps to one plain file name."""
    return hashlib.sha1(name_key(stem).encode("utf-8", "surrogatepass")).hexdigest()[:20] + CLAIM_SUFFIX


@dataclass
class _Seen:
    """What this observer last saw of one claim: which claim (its owner and when it was made: the
    same window claiming the image again makes a new one), its counter, and when (monotonic)."""

    claim: tuple[str, float]
    beat: int
    at: float


class ClaimBook:
    """The claims of one window on one save folder, and what it has observed of everyone else's.

    Thread-safe: the owner's thread claims and beats; the writer thread releases an image once its
    last save is written.
    """

    def __init__(self, save_dir: str | os.PathLike, person: str | None = None,
                 timeout: float = CLAIM_TIMEOUT_S, clock: Callable[[], float] = time.monotonic,
                 say: Callable[[str], None] | None = None) -> None:
        self.save_dir = Path(save_dir).resolve()
        self.person = clean_text(person) if person else default_person()
        self.timeout = timeout
        self.token = uuid.uuid4().hex
        self._clock = clock
        self.say = say or (lambda line: None)  # where a claim file ignored is said (once)
        self._said: set[tuple[str, str]] = set()  # (file name, problem) said once
        self._mine: dict[str, Claim] = {}  # by file name
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.RLock()
        self._started = platform_io.process_start(os.getpid()) or time.time()
        _LIVE_TOKENS.add(self.token)

    # --- own claims ---------------------------------------------------------------------------
    def holds(self, stem: str) -> bool:
        with self._lock:
            return claim_name(stem) in self._mine

    @property
    def held(self) -> list[str]:
        with self._lock:
            return [claim.stem for claim in self._mine.values()]

    def claim(self, stem: str) -> None:
        """Claim image ``stem``: :class:`ClaimTaken` when a live other holds it, SaveError when the
        claim cannot be written (a read-only or vanished drive)."""
        name = claim_name(stem)
        with self._lock:
            if name in self._mine:
                return
            folder = claims_folder(self.save_dir, create=True)
            now = time.time()
            claim = Claim(stem, self.person, socket.gethostname(), os.getpid(), self._started, self.token, now, 0, now)
            for _ in range(3):  # a stale claim is removed, then the creation tried again
                if self._create(folder / name, claim):
                    self._mine[name] = claim
                    return
                judged = _read(folder / name)
                holder = self.holder(stem)
                if holder is not None:
                    raise ClaimTaken(holder)
                _take_over(folder / name, judged.token if judged is not None else None)
            holder = self.holder(stem)
            if holder is not None:
                raise ClaimTaken(holder)
            raise SaveError(f"cannot claim {stem}: its claim file keeps changing")

    def taken_from_me(self, stem: str) -> bool:
        """True when this window claimed ``stem`` but the claim file now names another window (taken
        over while this one was asleep). Read before every save: the strokes then go beside."""
        name = claim_name(stem)
        with self._lock:
            if name not in self._mine:
                return False
        try:
            current = _read(claims_folder(self.save_dir) / name)
        except SegStudioError:
            return False
        return current is not None and current.token != self.token

    def release(self, stem: str) -> None:
        """Give up image ``stem`` (its claim file goes, if it is still ours)."""
        name = claim_name(stem)
        with self._lock:
            claim = self._mine.pop(name, None)
        if claim is not None:
            self._remove_if_mine(name)

    def release_all(self) -> None:
        """The window closes or opens another folder: every claim goes."""
        with self._lock:
            names = list(self._mine)
            self._mine.clear()
        for name in names:
            self._remove_if_mine(name)
        _LIVE_TOKENS.discard(self.token)

    def heartbeat(self) -> list[str]:
        """Refresh every own claim (counter + 1); returns the stems found taken over meanwhile
        (they are given up). A claim that cannot be written (the drive is gone) is kept: it is
        written again on the next beat."""
        lost = []
        with self._lock:
            for name, claim in list(self._mine.items()):
                try:
                    path = claims_folder(self.save_dir) / name
                except SegStudioError:  # replaced by a link meanwhile: kept, and said by the next claim
                    continue
                current = _read(path)
                if current is None or current.token != self.token:
                    if current is None and not _exists(path):  # removed (a cleaner): claim it again
                        if self._create(path, claim):
                            continue
                    del self._mine[name]
                    lost.append(claim.stem)
                    continue
                beaten = replace(claim, beat=claim.beat + 1, beat_time=time.time())
                try:
                    atomic_write_text(path, json.dumps(asdict(beaten)))
                except (OSError, SegStudioError):
                    continue
                self._mine[name] = beaten
        return lost

    # --- everyone's claims --------------------------------------------------------------------
    def holder(self, stem: str) -> Claim | None:
        """The live claim of someone else (another window, here or elsewhere) on ``stem``, or None."""
        try:
            folder = claims_folder(self.save_dir)
        except SegStudioError:  # a link or a file stands there: nothing is read through it
            return None
        claim = self._observe(folder / claim_name(stem))
        return claim if claim is not None and claim.token != self.token and claim.stem == stem else None

    def others(self) -> dict[str, Claim]:
        """Every live claim of someone else, by stem (the file list shows who is on what)."""
        try:
            folder = claims_folder(self.save_dir)
            names = [item.name for item in os.scandir(folder) if item.name.endswith(CLAIM_SUFFIX)]
        except (OSError, SegStudioError):  # none yet, or a link standing there (never followed)
            return {}
        found = {}
        for name in names:
            claim = self._observe(folder / name)
            if claim is not None and claim.token != self.token and claim_name(claim.stem) == name:
                found[claim.stem] = claim
        return found

    def _observe(self, path: Path) -> Claim | None:
        """The claim at ``path`` if it is live, else None (stale or unreadable: see the module doc)."""
        claim = _read(path, self._said_once)
        with self._lock:
            if claim is None:
                self._seen.pop(path.name, None)
                return None
            now = self._clock()
            seen = self._seen.get(path.name)
            if seen is None or (seen.claim, seen.beat) != ((claim.token, claim.since), claim.beat):
                self._seen[path.name] = seen = _Seen((claim.token, claim.since), claim.beat, now)
        if not _process_may_live(claim):
            return None
        return claim if claim.token == self.token or now - seen.at < self.timeout else None

    # --- files --------------------------------------------------------------------------------
    def _create(self, path: Path, claim: Claim) -> bool:
        """Create ``path`` holding ``claim``, complete, unless it exists (False)."""
        try:
            fd, temporary = temporary_next_to(path)
        except OSError as exc:
            raise SaveError(f"cannot claim {claim.stem} in {path.parent}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(claim), handle)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                return False
            except OSError as exc:
                raise SaveError(f"cannot claim {claim.stem} in {path.parent}: {exc.strerror or exc}") from exc
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _remove_if_mine(self, name: str) -> None:
        try:
            path = claims_folder(self.save_dir) / name
        except SegStudioError:
            return
        current = _read(path)
        if current is not None and current.token == self.token:
            _remove(path)

    def _said_once(self, path: Path, problem: str) -> None:
        key = (path.name, problem)
        if key not in self._said:
            self._said.add(key)
            self.say(f"claim {path} ignored: {problem}")


def _read(path: Path, say: Callable[[Path, str], None] | None = None) -> Claim | None:
    """The genuine claim in ``path``, or None (missing; or not genuine, said through ``say``)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    problem = None
    if not stat.S_ISREG(mode):
        problem = "not a plain file (a link, a pipe or a folder is never followed)"
    else:
        try:
            claim = Claim.from_json(read_json(path, CLAIM_LIMIT, SegStudioError, "claim", follow_symlinks=False))
        except SegStudioError as exc:
            if not os.path.lexists(path):  # released (or taken over) while it was being read
                return None
            claim, problem = None, str(exc).splitlines()[0]
        if claim is None and problem is None:
            problem = "a field is missing or out of range"
    if problem is not None:
        if say is not None:
            say(path, problem)
        return None
    return claim


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _process_may_live(claim: Claim) -> bool:
    """False when the claim's process is provably gone (same host only; see the module doc)."""
    if claim.pid == os.getpid() and claim.host == socket.gethostname():
        return claim.token in _LIVE_TOKENS
    return platform_io.writer_may_live(claim.host, claim.pid, claim.started)


def _take_over(path: Path, stale_token: str | None) -> None:
    """Remove the stale claim at ``path`` that was judged to belong to ``stale_token``. It is first
    renamed aside (atomic: of two windows taking over at once only one moves it), then read again:
    when what was moved is no longer that stale claim (another window claimed the image in the
    meantime), it is put back rather than deleted."""
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    except OSError:  # a folder standing there, a drive gone: the creation fails again, and says so
        return
    moved = _read(aside)
    if moved is not None and moved.token != stale_token:
        with contextlib.suppress(OSError):
            os.link(aside, path)
    _remove(aside)


def _remove(path: Path) -> None:
    """Remove a stale claim (a link or pipe is removed itself, never followed or opened)."""
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        os.unlink(path)
