"""``segstudio-cli fetch-model NAME [--from FILE]``: put a pretrained model into the Hugging Face cache.

Downloads the config and weights of NAME (a catalogue name such as ``mit-b0`` or ``b0-ade``, or
any SegFormer on the hub by its id ``owner/name``, ``owner/name@revision`` for a branch, tag or
commit) into the standard Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``), with a progress bar
on stderr, after printing what it is and its licence. A repository that is not a SegFormer (or a
Segment Anything model for click to segment) is refused, from its config.json, before its
weights are fetched. An interrupted download
(Ctrl+C, a cut connection) keeps what it fetched and continues on the next run. On a machine
without network, ``--from FILE`` imports the weights file (or a folder with config.json and
weights) that this command fetched on another machine. ``--list`` shows the catalogue, what
of it is cached, and the other models in the cache (a SegFormer or SAM fetched by its hub id).
The path of the cached model goes to stdout.
"""

from __future__ import annotations

import argparse
import sys

from segstudio.cli.options import help_text


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "fetch-model", help="download a pretrained model (or import one) into the Hugging Face cache",
        description=help_text(__doc__))
    parser.add_argument("name", nargs="?",
                        help="catalogue name (mit-b0, b0-ade, b2-cityscapes...) or any SegFormer on the hub: "
                             "owner/name, or owner/name@revision")
    parser.add_argument("--from", dest="source", metavar="FILE",
                        help="import this weights file or model folder instead of downloading")
    parser.add_argument("--list", action="store_true",
                        help="list the catalogue (sizes, datasets, which are cached) and the other cached models")
    return parser


def run(args: argparse.Namespace) -> int:
    from segstudio.core.errors import OptionError
    from segstudio.model.weights import hub, hub_cache

    if args.list:
        return _list()
    if not args.name:
        raise OptionError("give a model NAME (or --list to see the catalogue)")
    if args.source:
        placed = hub.import_file(args.name, args.source)
        verb = "already in the cache" if placed.source == "cache" else "imported"
        print(f"{placed.hub_id}: {verb}", file=sys.stderr)
        print(placed.path)
        return 0
    named = hub.hub_name_of(args.name)
    cached = hub_cache.cached_snapshot(named.hub_id, named.revision)
    if cached is not None:
        print(f"{named.text}: already in the cache", file=sys.stderr)
        print(cached)
        return 0
    with _ProgressBar(named.entry) as bar:
        bar.describe(named.hub_id)  # size and licence from the catalogue, also when the download cannot start
        folder = hub.fetch(named.hub_id, revision=named.revision, on_start=bar.start, on_progress=bar.update,
                           on_remote=bar.remote, promptable=True)
    weights = next((folder / n for n in hub_cache.WEIGHT_FILES if (folder / n).is_file()), folder)
    print(f"{named.text}: downloaded; to use it on a machine without network, copy {weights} there "
          f"and run: segstudio-cli fetch-model {named.hub_id} --from FILE", file=sys.stderr)
    print(folder)
    return 0


def _list() -> int:
    from segstudio.core.project_lock import printable
    from segstudio.model.weights import catalogue, hub_cache
    from segstudio.model.weights.hub_listing import cached_models

    print(f"{'name':<24} {'MB':>6}  {'kind':<12} {'trained on':<11} {'cached':<6}  hub id")
    entries = catalogue.load()
    for entry in entries:
        cached = "yes" if hub_cache.cached_snapshot(entry.id) is not None else "no"
        print(f"{entry.short:<24} {entry.size_mb:>6.1f}  {entry.kind:<12} {entry.dataset:<11} "
              f"{cached:<6}  {entry.id}")
    others = cached_models(skip={entry.id for entry in entries})
    if others:
        print("\nalso in the cache (use them by hub id):")
        for model in others:
            usable = "" if model.usable else "  (not usable: "
            print(f"{printable(model.hub_id):<40} {model.size_mb:>7.1f} MB  {usable}{printable(model.what)}"
                  f"{')' if usable else ''}")
    print(f"cache: {hub_cache.cache_location()}", file=sys.stderr)
    return 0


def resolve_model(name: str, save_dir=None) -> str:
    """A MODEL argument as a local path (downloading a catalogue model once, with a progress bar on
    stderr); bare variants b0..b5 stay as they are. Every command that takes a MODEL calls this."""
    from segstudio.model.weights import catalogue
    from segstudio.model.weights.model_source import local_source

    with _ProgressBar(catalogue.find(str(name))) as bar:
        return local_source(name, save_dir, download=True, on_start=bar.start, on_progress=bar.update,
                            on_remote=bar.remote)


def fetch_quietly_failing(name: str) -> str | None:
    """Download catalogue model ``name`` into the cache if it is not there (progress bar on stderr);
    the reason as one line when that is not possible (offline, no network), else None."""
    from segstudio.core.errors import SegStudioError

    try:
        resolve_model(name)
    except SegStudioError as exc:
        return str(exc)
    return None


class _ProgressBar:
    """A tqdm bar on stderr, opened when the download starts (after the licence line)."""

    def __init__(self, entry) -> None:
        self.entry, self.bar, self.described = entry, None, False

    def remote(self, remote) -> None:
        """A model outside the catalogue: what it is and its licence (from its card), before the weights."""
        if self.entry is None:
            print(f"{remote.hub_id}: {remote.what}; licence: {remote.licence_text}", file=sys.stderr)

    def describe(self, hub_id: str) -> None:
        """The catalogue's line for the model (kind, dataset, size, licence), once."""
        if self.entry is not None and not self.described:
            licence = self.entry.licence
            print(f"{hub_id}: {self.entry.kind} ({self.entry.dataset}), about "
                  f"{self.entry.size_mb:g} MB; licence: {licence.name}, {licence.url}",
                  file=sys.stderr)
        self.described = True

    def start(self, hub_id: str, total: int) -> None:
        from tqdm import tqdm

        self.describe(hub_id)
        self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                        desc=hub_id.split("/")[-1], file=sys.stderr, mininterval=0.2)

    def update(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(done - self.bar.n)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
