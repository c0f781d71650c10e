"""What the command groups share: the exit codes, the ``--sources``/``--origin``/``--archive`` options, the
sources a command reads (with its ``--origin`` remappings), the archive it means without ``--archive``, and
the one-line error.

Part of the command line (:mod:`crawler.cli`): every group module (pages, crawling, archive, replay,
reading, sources, health) imports it; it imports none of them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.cli import argtypes
from crawler.config import Sources, load_sources
from crawler.errors import ArchiveError, ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 75
EXIT_PROBLEMS = 5  # replay completed, but some records were bad (see cmd_replay)
SOURCES_HELP = "sources file (default: ./sources.yaml if present, else the built-in configuration)"
ARCHIVE_HELP = ("archive directory (default: $CRAWLER_ARCHIVE, else ./archive, else ./archive/demo when only "
                "`crawler demo` made one)")
ARCHIVE_ENV = "CRAWLER_ARCHIVE"
# The commands that read an existing archive: without --archive they look for one (default_archive).
READERS = frozenset({"search", "export", "stats", "report", "failed", "verify", "index", "wacz", "replay"})


def default_archive(command: str, *, replay_inputs: bool = False, quiet: bool = False) -> Path:
    """The archive a command means when no ``--archive`` is given (README, "Which archive").

    ``$CRAWLER_ARCHIVE`` when set; else ``./archive``; a command that reads an archive takes
    ``./archive/demo`` instead when ``./archive`` holds none and the demo's does (said on stderr), and
    refuses in one line naming ``--archive`` when neither holds one.
    """
    from crawler.archive.catalog import CATALOG

    env = os.environ.get(ARCHIVE_ENV, "").strip()
    if env:
        try:
            chosen = argtypes.archive_dir(env)
        except argparse.ArgumentTypeError as err:
            raise ConfigError(f"${ARCHIVE_ENV}: {err}") from None
        if command in READERS and not replay_inputs and not (chosen / CATALOG).is_file():
            raise ArchiveError(f"${ARCHIVE_ENV}={env} holds no {CATALOG}: not an archive (unset it, or give "
                               f"--archive DIR)")
        return chosen
    archive = Path("archive")
    if command not in READERS or replay_inputs or (archive / CATALOG).is_file():
        return archive
    demo = archive / "demo"
    if (demo / CATALOG).is_file():
        if not quiet:
                print(f"crawler: reading {demo} (the demo's archive; --archive DIR for another)", file=sys.stderr)
        return demo
    raise ArchiveError(f"no archive in ./archive (no {CATALOG} there, nor in ./archive/demo): give --archive DIR, "
                       f"set {ARCHIVE_ENV}, or run `crawler demo` to make one")


def print_error(err: object) -> None:
    print("crawler: " + " ".join(str(err).splitlines()), file=sys.stderr)


def add_common_options(p: argparse.ArgumentParser, *, archive: bool = True) -> None:
    """``--sources``, ``--origin`` and (unless ``archive=False``) ``--archive``: the commands that read sources."""
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.add_argument("--origin", action="append", default=[], metavar="HOST=URL",
                   help="serve HOST from another origin, e.g. baocantho.com.vn=http://127.0.0.1:8080")
    if archive:
        p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)


def add_requisite_options(p: argparse.ArgumentParser, *, what: str) -> None:
    """``--requisites`` and its per-page caps, the same for ``crawl`` and ``fetch`` (``what``: whose
    requisites, e.g. "each page's")."""
    p.add_argument("--requisites", action="store_true",
                   help=f"also archive {what} stylesheets, fonts and images from the site's own hosts (WARC only; "
                        "conditional requests for those archived before; as `requisites: true` does for a source)")
    p.add_argument("--requisites-per-page", type=argtypes.integer(1, 10_000), default=60, metavar="N",
                   help="at most N requisites of one page, 1..10,000 (default 60)")
    p.add_argument("--requisite-page-bytes", type=argtypes.byte_size, default=10_000_000, metavar="BYTES",
                   help="at most this many bytes of requisites for one page (default 10M)")


def add_reading_options(p: argparse.ArgumentParser) -> None:
    """``--archive`` and ``--wait``: the commands that read an archive beside a crawl."""
    p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)
    p.add_argument("--wait", action="store_true",
                   help="wait for a crawl writing the archive to finish (default: read beside it)")


def read_sources(args: argparse.Namespace) -> Sources:
    sources = load_sources(args.sources)
    pairs = origin_pairs(args)
    return sources.with_origins(pairs) if pairs else sources


def origin_pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The ``--origin HOST=URL`` remappings given (a malformed one: :class:`ConfigError`, exit 2)."""
    pairs: list[tuple[str, str]] = []
    for item in getattr(args, "origin", []):
        host, sep, url = item.partition("=")
        if not sep or not host.strip() or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--origin wants HOST=URL (e.g. baocantho.com.vn=http://127.0.0.1:8001), got {item!r}")
        pairs.append((host, url))
    return pairs
