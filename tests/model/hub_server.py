"""A loopback Hugging Face hub for the tests: real HTTP on 127.0.0.1, the hub's URL layout.

``HEAD|GET /{owner}/{name}/resolve/{revision}/{file}`` answers like huggingface.co:
``X-Repo-Commit``, ``ETag`` (the git blob id of a small file), and for a large (LFS) file a 302 to a second
server, the "CDN", with ``X-Linked-Etag`` (its sha256) and ``X-Linked-Size``. The CDN serves the
bytes with ``Range`` support. Unknown repositories answer 401 ``X-Error-Code: RepoNotFound`` and
missing files 404 ``EntryNotFound``, as the hub does. Faults are switched on per test: ``cut_after``
closes the connection after that many bytes of a body (then ``fail_after_cut`` answers 503 until
reset), ``corrupt`` serves other bytes than announced, ``truncate`` fewer bytes than announced (the
response itself consistent), ``portal`` redirects every hub request to an HTML page on the other
host. A repository with a ``token`` is private. Every request is logged (method, path, Range; and
its Authorization header in ``auth``).

``point_hub_at`` makes huggingface_hub use it: it sets ``HF_ENDPOINT``, ``HF_HOME`` and
``HF_HUB_OFFLINE`` and reloads ``huggingface_hub.constants``, which reads them at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LFS_MIN = 1024        # files at least this large are "LFS" files, as weights are on the hub


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    files: dict[str, bytes]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    token: str | None = None     # a private repository: only this bearer token sees it


@dataclass
class Faults:
    cut_after: int | None = None       # bytes of a body sent before the connection is closed
    cuts_left: int = 0                 # how many bodies are cut
    fail_after_cut: bool = False       # after a cut, answer 503 until cleared
    failing: bool = False
    corrupt: set[str] = field(default_factory=set)   # files served with one byte flipped
    etag: str | None = None            # announced instead of the weights' real sha256
    truncate: dict[str, int] = field(default_factory=dict)   # file -> bytes served (the rest never comes)
    portal: bool = False               # every hub request is redirected to a page on another host


class LoopbackHub:
    """Two servers (hub, CDN) in threads; ``repos`` maps hub ids to :class:`Repo`."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.faults = Faults()
        self.log: list[tuple[str, str, str | None]] = []
        self.auth: list[tuple[str, str | None]] = []      # (request path, Authorization header)
        self.lock = threading.Lock()
        self.hub = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, cdn=False))
        self.cdn = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, cdn=True))
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (self.hub, self.cdn)]
        for thread in self.threads:
            thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.hub.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self.cdn.server_address[1]}"

    def add_folder(self, hub_id: str, folder: Path) -> Repo:
        """Serve every file of ``folder`` (e.g. what ``save_pretrained`` wrote) as ``hub_id``."""
        repo = Repo({p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()})
        self.repos[hub_id] = repo
        return repo

    def gets(self, name: str) -> list[tuple[str, str, str | None]]:
        """The logged GETs whose path ends with ``name``."""
        return [e for e in self.log if e[0] == "GET" and e[1].endswith(name)]

    def stop(self) -> None:
        for server in (self.hub, self.cdn):
            server.shutdown()
            server.server_close()

    def blob(self, sha: str) -> tuple[str, bytes] | None:
        for repo in self.repos.values():
            for name, data in repo.files.items():
                if hashlib.sha256(data).hexdigest() == sha:
                    return name, data
        return None


def _handler(hub: LoopbackHub, cdn: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            with hub.lock:
                hub.log.append((self.command, self.path, self.headers.get("Range")))
                hub.auth.append((self.path, self.headers.get("Authorization")))
                failing = hub.faults.failing
            if failing:
                return self._error(503, None)
            if cdn:
                return self._cdn(body)
            if hub.faults.portal:     # a captive portal or misconfigured mirror: HTML from elsewhere
                self.send_response(302)
                self.send_header("Location", f"{hub.cdn_url}/portal")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            parts = self.path.lstrip("/").split("/")
            if len(parts) < 5 or parts[2] != "resolve":
                return self._error(404, None)
            hub_id, filename = "/".join(parts[:2]), "/".join(parts[4:])
            repo = hub.repos.get(hub_id)
            if repo is None or (repo.token and self.headers.get("Authorization") != f"Bearer {repo.token}"):
                return self._error(401, "RepoNotFound")
            if parts[3] not in ("main", repo.commit):
                return self._error(404, "RevisionNotFound", repo.commit)
            data = repo.files.get(filename)
            if data is None:
                return self._error(404, "EntryNotFound", repo.commit)
            if len(data) >= LFS_MIN:
                sha = hashlib.sha256(data).hexdigest()
                self.send_response(302)
                self.send_header("Location", f"{hub.cdn_url}/blobs/{sha}")
                self.send_header("X-Repo-Commit", repo.commit)
                self.send_header("X-Linked-Etag", f'"{hub.faults.etag or sha}"')
                self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("ETag", f'"{git_blob_id(data)}"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(data, body, {"X-Repo-Commit": repo.commit, "ETag": f'"{git_blob_id(data)}"'},
                       filename)

        def _cdn(self, body: bool) -> None:
            if self.path == "/portal":
                return self._send(b"<html>please log in</html>", body, {"Content-Type": "text/html"}, "portal")
            found = hub.blob(self.path.rsplit("/", 1)[-1])
            if found is None:
                return self._error(404, None)
            name, data = found
            self._send(data, body, {"ETag": f'"{hashlib.sha256(data).hexdigest()}"'}, name)

        def _send(self, data: bytes, body: bool, headers: dict[str, str], name: str) -> None:
            if name in hub.faults.corrupt:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            if name in hub.faults.truncate:
                data = data[:hub.faults.truncate[name]]
            start, status = 0, 200
            wanted = self.headers.get("Range")
            if wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
                start, status = int(wanted[6:-1]), 206
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if not body:
                return
            payload = data[start:]
            with hub.lock:
                cut = hub.faults.cut_after if hub.faults.cuts_left > 0 else None
                if cut is not None and cut < len(payload):
                    hub.faults.cuts_left -= 1
                    hub.faults.failing = hub.faults.fail_after_cut
                else:
                    cut = None
            if cut is not None:
                self.wfile.write(payload[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(payload)

        def _error(self, status: int, code: str | None, commit: str | None = None) -> None:
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            if commit:
                self.send_header("X-Repo-Commit", commit)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def point_hub_at(monkeypatch, home: Path, endpoint: str | None = None, offline: bool = False) -> None:
    """Make huggingface_hub (in this process) use ``endpoint``, a cache under ``home``, offline or not.

    The environment is changed through ``monkeypatch``; call :func:`restore_hub` at teardown so
    the next test sees the real settings again.
    """
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_TOKEN",
                 "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
    if endpoint is not None:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
    else:
        monkeypatch.delenv("HF_ENDPOINT", raising=False)
    _reload_constants()


@contextlib.contextmanager
def serving(monkeypatch, home: Path, folders: dict[str, Path]) -> Iterator[LoopbackHub]:
    """A loopback hub serving ``folders`` ({repo id: model folder}), with huggingface_hub pointed at
    it and its cache under ``home``; afterwards the server is stopped and the settings restored."""
    server = LoopbackHub()
    for repo_id, folder in folders.items():
        server.add_folder(repo_id, folder)
    point_hub_at(monkeypatch, home, server.endpoint)
    try:
        yield server
    finally:
        server.stop()
        restore_hub(monkeypatch)


def restore_hub(monkeypatch) -> None:
    """Undo :func:`point_hub_at`: the environment, then the constants read from it."""
    monkeypatch.undo()
    _reload_constants()


def _reload_constants() -> None:
    """huggingface_hub reads its settings into ``constants`` at import time; read them again."""
    from huggingface_hub import constants
    importlib.reload(constants)


def hub_env(home: Path, endpoint: str | None = None, offline: bool = False) -> dict[str, str]:
    """The environment for a subprocess that should use the loopback hub and a cache in ``home``."""
    import os
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HF_ENDPOINT",
                        "TRANSFORMERS_OFFLINE")}
    env.update(HF_HOME=str(home), HF_HUB_OFFLINE="1" if offline else "0",
               HF_HUB_DISABLE_TELEMETRY="1")
    if endpoint is not None:
        env["HF_ENDPOINT"] = endpoint
    return env


def offline_home(monkeypatch, home: Path):
    """An offline machine with an empty cache in ``home`` and the repository's catalogue; a generator
    for a fixture (``yield from offline_home(...)``) that restores huggingface_hub afterwards."""
    from segstudio.model.weights import catalogue

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.setattr(catalogue, "_load_default", lambda: catalogue.load(repo / "resources" / "catalogue.json"))
    point_hub_at(monkeypatch, home, offline=True)
    yield home
    restore_hub(monkeypatch)
