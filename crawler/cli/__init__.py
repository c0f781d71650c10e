"""Command line: argv, logging and output; the only reader of argv and the environment.

Exit codes (also in README.md):

- 0: success (``fetch``: also "already archived");
- 1: the requested work failed (HTTP failure, not an article, extraction failure), the
  archive cannot be read or written (read-only file system, permissions, disk full), or
  ``verify`` found problems;
- 2: bad usage or configuration (an unknown option or a value out of range, an unknown
  source, an invalid sources.yaml); the message names what was wrong;
- 3 and 130: see :mod:`crawler.crawl.run` (``crawl``);
- 5 (``replay``): completed with problems: some records were bad (unreadable, too large,
  an article id unfit for a file name) and were skipped, every other record was replayed;
  (``replay --host H``): 2 when no response record of ``H`` was found, as for an unknown
  ``--source``, after writing what the other ``--host`` hosts matched;
- 75 (EX_TEMPFAIL): ``verify`` found the archive busy: a crawl is writing it (``--wait``
  waits for it instead).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import USER_AGENT, __version__
from crawler.archive.lock import ArchiveBusy
from crawler.archive.outputs import check_output, check_output_dir, write_atomic
from crawler.cli import argtypes
from crawler.config import Sources, load_sources
from crawler.errors import ArchiveError, ConfigError, CrawlerError, UnknownSourceError
from crawler.terminal import PrintableStream, pipe_console, printable, raw

if TYPE_CHECKING:
    from crawler.archive.reading import Selection
    from crawler.use.health import Health

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 75
EXIT_PROBLEMS = 5  # replay completed, but some records were bad (see cmd_replay)
SOURCES_HELP = "sources file (default: ./sources.yaml if present, else the built-in configuration)"
ARCHIVE_HELP = ("archive directory (default: $CRAWLER_ARCHIVE, else ./archive, else ./archive/demo when only "
                "`crawler demo` made one)")
ARCHIVE_ENV = "CRAWLER_ARCHIVE"
# The commands that read an existing archive: without --archive they look for one (default_archive).
READERS = frozenset({"search", "export", "stats", "report", "failed", "verify", "index", "wacz", "replay"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; all it prints goes through :func:`crawler.terminal.printable`."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None:
        sys.stdout = PrintableStream(sys.stdout)
    if sys.stderr is not None:
        sys.stderr = PrintableStream(sys.stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = saved


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # argparse would print the top-level usage; the subcommand's is the useful one.
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    restore = _interrupt_on_sigterm() if args.command in _TERM_CLEANS else None
    try:
        return _run(args)
    finally:
        if restore is not None:
            restore()


def _run(args: argparse.Namespace) -> int:
    try:
        if getattr(args, "archive", ...) is None:
            args.archive = default_archive(args.command, replay_inputs=bool(getattr(args, "warcs", None)))
        return int(args.func(args))
    except (ConfigError, UnknownSourceError) as err:
        _error(err)
        return EXIT_USAGE
    except ArchiveBusy as err:  # whichever command met the lock: "try again later" (EX_TEMPFAIL)
        _error(err if "try again" in str(err) else f"{err}; try again later")
        return EXIT_BUSY
    except CrawlerError as err:
        _error(err)
        return EXIT_FAILED
    except BrokenPipeError:  # the reader went away (`crawler export -o - | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return EXIT_OK
    except OSError as err:  # an environment problem no module turned into a CrawlerError
        _error(f"{err.filename}: {err.strerror}" if err.filename and err.strerror else err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("crawler: interrupted", file=sys.stderr)
        return 130


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


# Commands whose SIGTERM unwinds like Ctrl-C, removing their temporary files (crawl has its own handling).
_TERM_CLEANS = frozenset({"export", "wacz", "report", "index", "replay", "stats", "search", "verify"})


def _interrupt_on_sigterm() -> Callable[[], None] | None:
    """SIGTERM raises KeyboardInterrupt (writers then remove their temporaries); returns what restores the
    handler before, or None when it could not be set (not the main thread)."""
    import signal

    parent = os.getpid()

    def interrupt(signum: int, frame: object) -> None:
        if os.getpid() != parent:  # a forked child: die as SIGTERM would have
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise KeyboardInterrupt

    try:
        before = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (main() called from a thread): the default stays
        return None

    def restore() -> None:
        signal.signal(signal.SIGTERM, before)

    return restore


def _error(err: object) -> None:
    print("crawler: " + " ".join(str(err).splitlines()), file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler", description="Crawl and archive Vietnamese provincial news portals."
    )
    parser.add_argument("--version", action="version", version=f"crawler {__version__} ({USER_AGENT})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, archive: bool = True) -> None:
        p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
        p.add_argument("--origin", action="append", default=[], metavar="HOST=URL",
                       help="serve HOST from another origin, e.g. baocantho.com.vn=http://127.0.0.1:8080")
        if archive:
            p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)

    p = sub.add_parser("parse", help="print the snapshot of a saved page, or with --listing its article URLs "
                                     "(no network)")
    common(p, archive=False)
    p.add_argument("--url", required=True, type=argtypes.http_url,
                   help="the page's URL (chooses the source and adapter)")
    p.add_argument("--listing", action="store_true",
                   help="the page is a listing or home page: print its article URLs, one per article id, in page "
                        "order (the next page's URL goes to stderr)")
    p.add_argument("--json", action="store_true",
                   help='print JSON: {"articles": [...], "next": ...} with --listing, else the article\'s fields')
    p.add_argument("file", type=Path, help="saved HTML file")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("fetch", help="archive one article: WARC + snapshot + catalog row")
    common(p)
    p.add_argument("url", type=argtypes.http_url)
    p.add_argument("--refresh", action="store_true",
                   help="fetch an archived article again (conditional request: a revisit record, or a new version)")
    p.add_argument("--timeout", type=argtypes.timeout, default=30.0, metavar="S",
                   help=f"seconds per request, more than 0, at most {argtypes.MAX_TIMEOUT:g} (default 30)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("crawl", help="the incremental crawl (what cron runs)")
    common(p)
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="crawl only this source (repeatable)")
    p.add_argument("--max-articles", type=argtypes.max_articles, default=None, metavar="N",
                   help="at most N new articles per source")
    p.add_argument("--since", type=argtypes.date, default=None,
                   help="skip articles published before DATE (YYYY-MM-DD)")
    p.add_argument("--refresh", action="store_true", help="re-fetch archived articles (revisit or new version)")
    p.add_argument("--wait", action="store_true", help="wait for another run on the archive instead of exiting")
    p.add_argument("--quiet", action="store_true", help="no output unless something is wrong (for cron)")
    p.add_argument("--log-json", action="store_true", help="log lines as JSON")
    p.add_argument("--no-progress", action="store_true", help="log lines even on a terminal")
    p.add_argument("--delay", type=argtypes.delay, default=None, metavar="S",
                   help=f"seconds between requests to a host, 0..{argtypes.MAX_DELAY:g} (all sources)")
    p.add_argument("--host-concurrency", type=argtypes.host_concurrency, default=None, metavar="N",
                   help=f"requests in flight per host, 1..{argtypes.MAX_HOST_CONCURRENCY} (all sources)")
    p.add_argument("--concurrency", type=argtypes.concurrency, default=16, metavar="N",
                   help=f"requests in flight in all, 1..{argtypes.MAX_CONCURRENCY} (default 16)")
    p.add_argument("--ignore-robots", action="store_true", help="do not fetch or obey robots.txt (mirror only!)")
    p.add_argument("--timeout", type=argtypes.timeout, default=30.0, metavar="S",
                   help=f"seconds per request, more than 0, at most {argtypes.MAX_TIMEOUT:g} (default 30)")
    p.add_argument("--exchange-timeout", type=argtypes.budget, default=None, metavar="S",
                   help="seconds one exchange may take in all, body included, whatever --timeout allows per read "
                        "(default 300)")
    p.add_argument("--run-budget", type=argtypes.budget, default=None, metavar="S",
                   help="seconds the run may fetch; then every host is deferred to the next run "
                        "(default: sources.yaml defaults.run_budget, else 720)")
    p.add_argument("--host-budget", type=argtypes.budget, default=None, metavar="S",
                   help="seconds one host may take in the run, from its first request; then it is deferred to "
                        "the next run (default: its politeness.host_budget, else 540)")
    p.add_argument("--warc-size", type=argtypes.byte_size, default=1_000_000_000, metavar="BYTES",
                   help="rotate WARC files at this size: bytes, or 500M, 2G, 512MiB; at least 1 MiB (default 1G)")
    p.add_argument("--workers", type=argtypes.workers, default=None, metavar="N|auto",
                   help="processes that parse articles and write snapshots beside the crawl process: 0 parses "
                        "in the crawl process; auto (default) uses 1 when a host's delay is under 0.1 s "
                        "and the machine has 2+ CPUs, else 0")
    p.add_argument("--images", action="store_true",
                   help="also archive each article's images (WARC only; as `images: true` does for a source)")
    p.add_argument("--images-per-article", type=argtypes.integer(1, 1000), default=20, metavar="N",
                   help="at most N images of one article, 1..1000 (default 20)")
    p.add_argument("--max-images", type=argtypes.integer(1, 10_000_000), default=10_000, metavar="N",
                   help="at most N images in the run, 1..10,000,000 (default 10,000)")
    p.add_argument("--requisites", action="store_true",
                   help="also archive each page's stylesheets, fonts and images from the site's own hosts (WARC "
                        "only; as `requisites: true` does for a source)")
    p.add_argument("--requisites-per-page", type=argtypes.integer(1, 10_000), default=60, metavar="N",
                   help="at most N requisites of one page, 1..10,000 (default 60)")
    p.add_argument("--requisite-page-bytes", type=argtypes.byte_size, default=10_000_000, metavar="BYTES",
                   help="at most this many bytes of requisites for one page (default 10M)")
    p.add_argument("--max-requisites", type=argtypes.integer(1, 10_000_000), default=10_000, metavar="N",
                   help="at most N requisites in the run, 1..10,000,000 (default 10,000)")
    p.add_argument("--max-requisite-bytes", type=argtypes.byte_size, default=1_000_000_000, metavar="BYTES",
                   help="at most this many bytes of requisites in the run (default 1G)")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("failed", help="list the articles that failed, why, and when they are tried again")
    p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)
    p.add_argument("--source", default=None, metavar="KEY", help="only this source")
    p.add_argument("--json", action="store_true", help="one JSON object per article")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("mirror", help="serve the offline mirror of the portals until interrupted")
    p.add_argument("--port", type=argtypes.port, default=None,
                   help="first port (one port per host, consecutive; default: free ports)")
    p.add_argument("--articles", type=argtypes.mirror_articles, default=60, metavar="N",
                   help=f"generated articles per source, 1..{argtypes.MAX_MIRROR_ARTICLES} (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--faults", default=None, metavar="SPEC",
                   help="inject faults, e.g. 'transient=0.2' or '503=0.05,reset=0.02,cp1258=0.1' (see README)")
    p.set_defaults(func=cmd_mirror)

    p = sub.add_parser("demo", help="archive the whole offline mirror, replay it, print a summary")
    p.add_argument("--archive", type=argtypes.archive_dir, default=Path("archive/demo"),
                   help="default: archive/demo")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.add_argument("--articles", type=argtypes.mirror_articles, default=60, metavar="N",
                   help=f"generated articles per source, 1..{argtypes.MAX_MIRROR_ARTICLES} (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("verify", help="check that catalog, snapshot files and WARCs agree (read-only)",
                       description="Check the archive without writing to it. Exit 0: no problem; 1: problems "
                                   "(printed) or the archive cannot be read; 75: a crawl is writing the archive "
                                   "(try again, or --wait).")
    p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)
    p.add_argument("--quick", action="store_true",
                   help="skip the WARC digest check and the index's lines (offsets are still read, indexes looked for)")
    p.add_argument("--wait", action="store_true", help="wait for a crawl writing the archive to finish")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("index", help="rebuild the archive's indexes (CDXJ per WARC file, full-text search)",
                       description="Rebuild the archive's derived indexes: a CDXJ index per WARC file (kept "
                                   "current as a crawl closes its files) and the catalog's full-text search index "
                                   "(kept current as rows are committed). Exit 0: done; 1: a file could not be "
                                   "indexed or the archive not read; 75: a crawl is writing the archive.")
    p.add_argument("--cdxj", dest="steps", action="append_const", const="cdxj", help="only the CDXJ indexes")
    p.add_argument("--search", dest="steps", action="append_const", const="search",
                   help="only the full-text search index")
    p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)
    p.add_argument("--wait", action="store_true", help="wait for a crawl writing the archive to finish")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("wacz", help="package the archive (or a slice) as a WACZ file for ReplayWeb.page",
                       description="Write a WACZ 1.1.1 package: the WARC files, their merged CDXJ index, "
                                   "pages/pages.jsonl (every article with its text) and datapackage.json.")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.wacz", help="the package to write")
    p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)
    p.add_argument("--source", action="append", default=[], metavar="KEY", help="only this source (repeatable)")
    p.add_argument("--since", type=argtypes.date, default=None, metavar="DATE",
                   help="only articles published at or after DATE (YYYY-MM-DD or ISO 8601; Vietnamese time), as "
                        "for export and search: the WARC files that hold them")
    p.add_argument("--until", type=argtypes.until, default=None, metavar="DATE",
                   help="only articles published up to and including DATE")
    p.add_argument("--captured-since", type=argtypes.date, default=None, metavar="DATE",
                   help="only WARC files with a capture at or after DATE (capture time; Vietnamese time if no zone)")
    p.add_argument("--captured-until", default=None, metavar="DATE",
                   help="only WARC files with a capture at or before DATE (a day counts whole)")
    p.add_argument("--title", default=None, help="the package's title")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.set_defaults(func=cmd_wacz)

    p = sub.add_parser("replay", help="re-extract snapshots from WARC files, no network (resumable, parallel)")
    common(p)
    p.add_argument("warcs", nargs="*", type=Path,
                   help="WARC files or directories of them (.warc, .warc.gz, .warc.zst; default: every closed "
                        "WARC of the archive)")
    p.add_argument("--out", type=argtypes.archive_dir, default=None, help="write snapshots under DIR/text/<source>/...")
    p.add_argument("--jsonl", default=None, metavar="PATH",
                   help="one JSON object per article version: '-' (stdout), a file, or a directory (ending "
                        "with / or existing; partitioned: source=<key>/month=<YYYY-MM>/part-0.jsonl)")
    p.add_argument("--parquet", type=Path, default=None, metavar="DIR",
                   help="Parquet partitioned like --jsonl (needs the 'scale' extra)")
    p.add_argument("--source", action="append", default=[], metavar="KEY",
                   help="only this source (repeatable); given once, also the source of records on no "
                        "configured host")
    p.add_argument("--host", action="append", default=[], metavar="HOST", help="only records of this host (repeatable)")
    p.add_argument("--processes", type=int, default=None, metavar="N",
                   help="worker processes (default: the number of CPUs; 1 = in this process)")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://HOST:PORT of its scheduler, or 'local' for a LocalCluster "
                        "of --processes workers (needs the 'scale' extra)")
    p.add_argument("--state", type=Path, default=None, metavar="DIR",
                   help="the job's manifest and intermediate files (default: OUT/.replay, or beside the output)")
    p.add_argument("--summary", type=Path, default=None, metavar="FILE", help="write the job's summary as JSON")
    p.add_argument("--reader", choices=["auto", "fastwarc", "python"], default="auto",
                   help="WARC reader (default auto: FastWARC when installed)")
    p.add_argument("--no-progress", action="store_true", help="no progress display even on a terminal")
    p.set_defaults(func=cmd_replay)

    add_reader_commands(sub)
    for command in sub.choices.values():
        command.set_defaults(parser=command)
    return parser


def add_reader_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands for people who use the archive: export, search, index, sources, stats, report."""

    def reading(p: argparse.ArgumentParser) -> None:
        p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)
        p.add_argument("--wait", action="store_true",
                       help="wait for a crawl writing the archive to finish (default: read beside it)")

    def selecting(p: argparse.ArgumentParser, *, versions: str) -> None:
        p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                       help="only this source (repeatable)")
        p.add_argument("--since", type=argtypes.date, default=None, metavar="DATE",
                       help="only articles published at or after DATE (YYYY-MM-DD or ISO 8601; Vietnamese time)")
        p.add_argument("--until", type=argtypes.until, default=None, metavar="DATE",
                       help="only articles published up to and including DATE")
        p.add_argument("--all-versions", action="store_true", help=versions)
        p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP + " (to check --source keys)")

    p = sub.add_parser("export", help="the archive as a table: JSONL, CSV or Parquet (no re-parsing)",
                       description="One row per article (its latest version unless --all-versions), from the "
                                   "catalog and the snapshot files, sorted by source, published and id. Columns: "
                                   "README.md, 'Exporting'.")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="output file (written whole, then renamed), or - for standard output (JSONL, CSV)")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], default=None,
                   help="default: from the output's suffix (.jsonl, .csv, .parquet)")
    p.add_argument("--csv-raw", action="store_true",
                   help="CSV cells exactly as archived (default: a cell starting with =, +, -, @, a tab or a line "
                        "break, also after blanks, gets a leading ' so that spreadsheets do not run it)")
    reading(p)
    selecting(p, versions="one row per version of each article (default: the latest version only)")
    p.set_defaults(func=cmd_export)

    from crawler.use.search import MAX_LIMIT, RANK_WINDOW

    p = sub.add_parser("search", help="full-text search over titles, sapos and bodies",
                       description="Search the archive's full-text index (SQLite FTS5). Words typed without "
                                   "diacritics match every writing ('tin tuc' finds 'tin tức'); typed with them, "
                                   "those diacritics ('Cần Thơ' is not 'cán thổ'). \"a phrase\", prefix*, AND, OR, "
                                   "NOT or -word (also alone), parentheses, title:word. Words typed together rank "
                                   "as a phrase ('da nang' puts 'Đà Nẵng' first), then bm25.")
    p.add_argument("query", help="what to look for (quote it for the shell)")
    reading(p)
    selecting(p, versions="also match older versions of changed articles (default: the latest only)")
    p.add_argument("--limit", type=argtypes.integer(1, MAX_LIMIT), default=20, metavar="N",
                   help=f"at most N hits, 1..{MAX_LIMIT} (default 20)")
    p.add_argument("--offset", type=argtypes.integer(0, 10_000_000), default=0, metavar="N",
                   help="skip the N best hits (paging: the count of all matches goes to stderr)")
    p.add_argument("--rank-all", action="store_true",
                   help=f"rank every match (default: a query matching more than {RANK_WINDOW:,} articles ranks the "
                        f"{RANK_WINDOW:,} most recently archived, which keeps it fast)")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("sources", help="list the configured sources; --check validates them",
                       description="Every source of the sources file with its hosts, adapter, start pages, feeds "
                                   "and the politeness a crawl uses (built-in defaults < the file's defaults: < the "
                                   "source's block < crawl's --delay/--host-concurrency, which you may give here to "
                                   "see their effect). --check: exit 0 when the file is valid and, with --origin "
                                   "(or --fetch), every start page and feed answers 200; else 2.")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.add_argument("--origin", action="append", default=[], metavar="HOST=URL",
                   help="serve HOST from another origin (with --check: its start pages are fetched there)")
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="only this source (repeatable)")
    p.add_argument("--check", action="store_true",
                   help="validate; with --origin or --fetch also fetch each start page and feed once")
    p.add_argument("--fetch", action="store_true",
                   help="with --check: fetch the start pages of hosts without --origin too (the real sites)")
    p.add_argument("--json", action="store_true", help="print the sources (and checks) as JSON")
    p.add_argument("--delay", type=argtypes.delay, default=None, metavar="S",
                   help="show the politeness with crawl's --delay S (and wait S between --check's requests)")
    p.add_argument("--host-concurrency", type=argtypes.host_concurrency, default=None, metavar="N",
                   help="show the politeness with crawl's --host-concurrency N")
    p.add_argument("--timeout", type=argtypes.timeout, default=30.0, metavar="S",
                   help="seconds per request of --check (default 30)")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("report", help="the archive's health as one self-contained HTML file with charts",
                       description="Per source: articles archived per day, failures per run, run durations, the last "
                                   "article, the frontier and permanently failed URLs, the share of pages per "
                                   "template and per extraction rule. One HTML file, no network needed to open it.")
    p.add_argument("-o", "--output", type=Path, default=Path("report.html"), metavar="FILE",
                   help="where to write it (default: report.html)")
    reading(p)
    p.add_argument("--days", type=argtypes.integer(1, 3660), default=30, metavar="N",
                   help="days the charts cover, 1..3660 (default 30)")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP + " (for the newspapers' names)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("stats", help="the report's figures as a table on the terminal")
    reading(p)
    p.add_argument("--days", type=argtypes.integer(1, 3660), default=30, metavar="N",
                   help="days of runs and charts considered, 1..3660 (default 30)")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP + " (for the newspapers' names)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_stats)



def read_sources(args: argparse.Namespace) -> Sources:
    sources = load_sources(args.sources)
    pairs: list[tuple[str, str]] = []
    for item in getattr(args, "origin", []):
        host, sep, url = item.partition("=")
        if not sep or not host.strip() or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--origin wants HOST=URL (e.g. baocantho.com.vn=http://127.0.0.1:8001), got {item!r}")
        pairs.append((host, url))
    return sources.with_origins(pairs) if pairs else sources


def cmd_parse(args: argparse.Namespace) -> int:

    from crawler.archive import jsonlines
    from crawler.models import ExtractionFailure
    from crawler.net.fetch_policy import FetchPolicy
    from crawler.parse.adapters import get_adapter
    from crawler.parse.extraction import parse_listing_response, parse_response
    from crawler.parse.htmlguard import complexity_problem
    from crawler.parse.normalize import render_snapshot

    source = read_sources(args).for_url(args.url)
    limit = FetchPolicy().max_bytes  # the fetcher's cap: no page the crawler archives is larger
    try:
        with open(args.file, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        print(f"crawler: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return EXIT_FAILED
    if len(data) > limit:
        print(f"crawler: {args.file} is larger than {limit} bytes (the fetcher's cap on a page)", file=sys.stderr)
        return EXIT_FAILED
    adapter = get_adapter(source)
    if args.listing:
        problem = complexity_problem(data)
        if problem is not None:
            print(f"crawler: {args.file}: {problem}", file=sys.stderr)
            return EXIT_FAILED
        listing = parse_listing_response(adapter, data, None, args.url)
        if not listing.article_urls:
            print(f"crawler: {args.file} lists no article of {source.key} (no link matches "
                  f"{source.article_url_pattern} on {', '.join(source.hosts)})", file=sys.stderr)
            return EXIT_FAILED
        if args.json:
            print(jsonlines.dumps({"articles": list(listing.article_urls), "next": listing.next_url}))
        else:
            sys.stdout.write("".join(f"{printable(url)}\n" for url in listing.article_urls))
            if listing.next_url:
                print(f"next: {printable(listing.next_url)}", file=sys.stderr)
        return EXIT_OK
    result = parse_response(adapter, data, None, args.url)
    if isinstance(result, ExtractionFailure):
        print(f"crawler: extraction failed: {result}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        fields = {"source": result.source, "article_id": result.article_id, "url": result.url,
                  "template": result.rules.get("template"), "snapshot": render_snapshot(result),
                  "rules": dict(result.rules)}
        print(jsonlines.dumps(fields))
        return EXIT_OK
    sys.stdout.write(render_snapshot(result) + "\n")
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    import trio  # here: the commands that do not fetch start faster without it

    from crawler.crawl.archiver import Archive, archive_article
    from crawler.net.fetch_policy import FetchPolicy
    from crawler.net.fetcher import Fetcher

    sources = read_sources(args)
    source = sources.for_url(args.url)
    url = source.real_url(args.url)  # a mirror URL given with --origin names the real page
    if source.article_id(url) is None:  # refused before the archive is created or locked
        print(f"crawler: not an article: {args.url} is not an article URL of {source.key} "
              f"(pattern {source.article_url_pattern})", file=sys.stderr)
        return EXIT_FAILED

    async def run() -> int:
        with Archive(args.archive, sources) as archive:
            async with Fetcher(FetchPolicy(timeout=args.timeout), origins=sources.origins) as fetcher:
                outcome = await archive_article(fetcher, archive, source, url, refresh=args.refresh)
        if not outcome.ok or outcome.text_path is None:
            print(f"crawler: {outcome.status}: {outcome.message}", file=sys.stderr)
            return EXIT_FAILED
        if outcome.status == "already-archived":
            print(f"crawler: already archived: {outcome.text_path} (--refresh fetches it again)", file=sys.stderr)
        elif outcome.status in ("revisit", "unchanged"):
            print(f"crawler: {outcome.message or 'the text is unchanged'}", file=sys.stderr)
        print(outcome.text_path)
        return EXIT_OK

    return trio.run(run)


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.config import RUN_BUDGET
    from crawler.crawl import CrawlOptions
    from crawler.crawl.run import EXCHANGE_TIMEOUT, RunSettings, crawl_command
    from crawler.crawl.worker_pool import auto_workers

    sources = read_sources(args)
    if args.only:
        sources = sources.only(args.only)
    elif args.origin:  # pointed at other origins: the sources they serve, not the live sites of the rest
        sources = sources.reachable()
    options = CrawlOptions(
        max_articles=args.max_articles, since=args.since, refresh=args.refresh,
        global_concurrency=args.concurrency, delay=args.delay, host_concurrency=args.host_concurrency,
        respect_robots=False if args.ignore_robots else None,
        images=True if args.images else None, images_per_article=args.images_per_article,
        max_images=args.max_images, host_budget=args.host_budget,
        requisites=True if args.requisites else None, requisites_per_page=args.requisites_per_page,
        requisite_page_bytes=args.requisite_page_bytes, max_requisites=args.max_requisites,
        max_requisite_bytes=args.max_requisite_bytes,
        run_budget=args.run_budget or sources.run_budget or RUN_BUDGET,
    )
    delays = [s.politeness.delay if args.delay is None else args.delay for s in sources]
    options.workers = auto_workers(delays) if args.workers is None else args.workers
    settings = RunSettings(archive=args.archive, wait=args.wait, quiet=args.quiet, log_json=args.log_json,
                           progress=False if args.no_progress else None, timeout=args.timeout,
                           warc_size=args.warc_size, exchange_timeout=args.exchange_timeout or EXCHANGE_TIMEOUT)
    return crawl_command(sources, options, settings)


def cmd_mirror(args: argparse.Namespace) -> int:
    from crawler.errors import MirrorError
    from crawler.mirror import serve
    from crawler.mirror.family_sources import FAMILY_HOSTS
    from crawler.mirror.images import IMAGE_HOSTS
    from crawler.mirror.sources import HOSTS

    hosts = len(HOSTS) + len(IMAGE_HOSTS) + len(FAMILY_HOSTS)
    if args.port is not None and args.port + hosts - 1 > 65535:
        args.parser.error(f"argument --port: the mirror listens on {hosts} consecutive ports from --port, "
                          f"so it must be at most {65536 - hosts}, got {args.port}")
    try:
        serve(port=args.port, articles=args.articles, seed=args.seed, faults=args.faults)
    except MirrorError as err:  # a port in use or not allowed: the environment, not the usage
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    import json

    from crawler.codings import MAX_BODY_BYTES, MAX_DECODED_BYTES
    from crawler.net.urls import host_key
    from crawler.replay.collection import fastwarc_available
    from crawler.replay.engine import FileTask, ReplayConfig
    from crawler.replay.job import JobOptions, Outputs, ScaleExtraMissing, run_job
    from crawler.replay.simple import collection_files, warc_files

    sources = read_sources(args)
    if not args.warcs:
        for directory in (args.archive, args.archive / "warc"):
            try:
                os.listdir(directory)  # glob would hide an unreadable directory
            except FileNotFoundError:
                break
            except OSError as err:
                print(f"crawler: cannot read archive {args.archive}: {err.strerror}", file=sys.stderr)
                return EXIT_FAILED
    for key in args.source:
        sources.get(key)  # UnknownSourceError -> exit 2
    hosts = {host_key(h): h for h in args.host}
    if "" in hosts:
        raise ConfigError(f"--host {hosts['']!r} is not a host name")
    if args.out is None and args.jsonl is None and args.parquet is None:
        print("crawler: nothing to write: give --out DIR, --jsonl PATH|- and/or --parquet DIR", file=sys.stderr)
        return EXIT_USAGE
    if args.processes is not None and args.processes < 1:
        raise ConfigError(f"--processes must be at least 1, got {args.processes}")
    _check_replay_outputs(args)
    paths: list[Path] = []
    for given in args.warcs:
        if given.is_dir():
            paths.extend(collection_files(given))
        elif given.is_file():
            paths.append(given)
        else:
            print(f"crawler: no such WARC file: {given}", file=sys.stderr)
            return EXIT_FAILED
    if not args.warcs:
        paths = warc_files(args.archive)
    if not paths:
        where = ", ".join(map(str, args.warcs)) if args.warcs else args.archive / "warc"
        print(f"crawler: no WARC files given and none in {where}", file=sys.stderr)
        return EXIT_FAILED
    config = ReplayConfig(
        sources,
        source_key=args.source[0] if len(args.source) == 1 else None,
        only_sources=frozenset(args.source),
        only_hosts=frozenset(hosts),
        engine=args.reader,
        max_block=MAX_BODY_BYTES,
        max_decoded=MAX_DECODED_BYTES,
    )
    if args.reader == "fastwarc" and not fastwarc_available():
        raise ScaleExtraMissing("--reader fastwarc needs the 'scale' extra: pip install 'crawler[scale]'")
    processes = args.processes or os.cpu_count() or 1
    progress = not args.no_progress and sys.stderr.isatty()
    # Absolute: Dask workers (maybe on other machines) have another working directory.
    options = JobOptions(tasks=[FileTask(str(p.absolute())) for p in paths],
                         outputs=Outputs(out=args.out, jsonl=args.jsonl, parquet=args.parquet),
                         state=args.state, processes=processes, dask=args.dask, progress=progress)
    summary = run_job(options, config)
    report = summary.to_json()
    data = (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    unwritten = False
    for where in ([Path(summary.state) / "summary.json"] if summary.state and Path(summary.state).is_dir() else []) \
            + ([args.summary] if args.summary is not None else []):
        try:
            write_atomic(where, data, durable=False, mkdir=False)
        except CrawlerError as err:
            _error(err)
            unwritten = True
    skipped = sum(summary.skipped_hosts.values())
    resumed = f" ({summary.files_resumed} done by an earlier run)" if summary.files_resumed else ""
    print(f"replay: {summary.files} WARC file(s){resumed}, {summary.records:,} response records, "
          f"{summary.articles} articles, {len(summary.failures)} extraction failures, "
          f"{len(summary.problems)} bad records, {summary.versions} versions, {summary.snapshots_written} "
          f"snapshots written, {skipped:,} records of {len(summary.skipped_hosts)} unrelated hosts skipped, "
          f"{summary.seconds:.1f} s", file=sys.stderr)
    if summary.temporaries_removed:
        print(f"  removed {summary.temporaries_removed} temporary file(s) left by killed runs", file=sys.stderr)
    if summary.restarted:
        print(f"  {summary.state}: state of another configuration dropped; started over", file=sys.stderr)
    for note in summary.notes:
        print(f"  {note}", file=sys.stderr)
    if summary.templates:
        print("  templates: " + ", ".join(f"{k} {v}" for k, v in summary.templates.most_common()), file=sys.stderr)
    for line in summary.failures[:20]:
        print(f"  failed: {line}", file=sys.stderr)
    for problem in summary.problems[:20]:
        print(f"  bad record: {problem['file']} at offset {problem['offset']}: {problem['reason']}", file=sys.stderr)
    if len(summary.problems) > 20:
        print(f"  … {len(summary.problems) - 20} more bad records in {summary.state}/summary.json", file=sys.stderr)
    unmatched = [given for key, given in hosts.items() if not summary.host_hits.get(key)]
    for given in unmatched:
        print(f"crawler: --host {given} matched no response record in the {summary.files} WARC file(s)",
              file=sys.stderr)
    if summary.failures or unwritten:
        return EXIT_FAILED
    if unmatched:
        return EXIT_USAGE
    return EXIT_PROBLEMS if summary.problems else EXIT_OK


def _check_replay_outputs(args: argparse.Namespace) -> None:
    """Replay's outputs: never an archive's own files, nor a FIFO or device (exit 2, naming the path)."""
    if args.out is not None:
        check_output_dir(args.out, "--out", refuse_archive=True)
    if args.jsonl is not None and args.jsonl != "-":
        jsonl = Path(args.jsonl)
        if args.jsonl.endswith("/") or jsonl.is_dir():
            check_output_dir(jsonl, "--jsonl")
        else:
            check_output(jsonl, "--jsonl")
    if args.parquet is not None:
        check_output_dir(args.parquet, "--parquet")
    if args.state is not None:
        check_output_dir(args.state, "--state", refuse_archive=True)
    if args.summary is not None:
        check_output(args.summary, "--summary")


def cmd_verify(args: argparse.Namespace) -> int:
    from crawler.archive.lock import ArchiveBusy
    from crawler.archive.verify import verify

    try:
        report = verify(args.archive, check_digests=not args.quick, wait=args.wait)
    except ArchiveBusy as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_BUSY
    for problem in report.problems:
        print(problem)
    verdict = "OK" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"verify: {args.archive}: {report.warcs} WARC files, {report.snapshots} snapshots: {verdict}",
          file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_failed(args: argparse.Namespace) -> int:

    from crawler.archive import jsonlines
    from crawler.archive.catalog import Store

    with Store(args.archive, readonly=True) as store:
        failed = store.failed(args.source)
    for item in failed:
        if args.json:
            print(jsonlines.dumps({"source": item.source, "article_id": item.article_id, "url": item.url,
                                   "attempts": item.attempts, "retried": "on schedule" if item.failed else "next run",
                                   "next_try": item.next_try, "last_error": item.last_error}))
        else:
            when = f"next try {item.next_try}" if item.next_try else "tried again next run"
            print(f"{printable(item.source)}\t{printable(item.article_id)}\t{item.attempts} attempt(s), {when}\t"
                  f"{printable(item.url)}\t{printable(item.last_error)}")
    if not args.json:
        print(f"failed: {len(failed)} article(s) not archived after failing", file=sys.stderr)
    return EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    from crawler.archive.indexing import rebuild
    from crawler.archive.lock import ArchiveBusy

    try:
        report = rebuild(args.archive, wait=args.wait, only=args.steps)
    except ArchiveBusy as err:
        print(f"crawler: {err}; try again or use --wait", file=sys.stderr)
        return EXIT_BUSY
    for line in report.recovered:
        print(f"recovered: {line}", file=sys.stderr)
    for problem in report.problems:
        print(problem)
    figures = "; ".join(f"{step}: " + ", ".join(f"{v} {k}" for k, v in values.items())
                        for step, values in report.figures.items())
    print(f"index: {args.archive}: {figures or 'nothing to index'}", file=sys.stderr)
    return EXIT_FAILED if report.problems else EXIT_OK


def cmd_wacz(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from crawler.archive.lock import ArchiveBusy
    from crawler.archive.wacz import write_wacz

    archive = args.archive
    until = None
    if args.captured_until is not None:
        try:
            day = argtypes.date(args.captured_until)
        except argparse.ArgumentTypeError as err:
            args.parser.error(f"argument --captured-until: {err}")
        # A day (YYYY-MM-DD) counts up to its end.
        until = day + timedelta(days=1, microseconds=-1) if len(args.captured_until.strip()) == 10 else day
    if args.captured_since is not None and until is not None and until < args.captured_since:
        args.parser.error("--captured-until is before --captured-since")
    if args.since is not None and args.until is not None and args.until <= args.since:
        args.parser.error("--until is before --since")
    if not args.output.name.endswith(".wacz"):
        args.parser.error(f"argument -o/--output: a .wacz file name, got {str(args.output)!r}")
    check_output(args.output, "-o")
    if args.source:
        read_sources(args).only(args.source)  # an unknown source: exit 2
    try:
        report = write_wacz(archive, args.output, sources=args.source or None, since=args.captured_since,
                            until=until, title=args.title, published_since=args.since, published_until=args.until)
    except ArchiveBusy as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_BUSY
    if report.indexed_now:
        print(f"crawler: indexed {len(report.indexed_now)} WARC file(s) that had no index yet, for this package "
              f"only (`crawler index` keeps them)", file=sys.stderr)
    print(f"wacz: {report.path}: {report.warcs} WARC files ({report.warc_bytes:,} bytes), "
          f"{report.index_lines} index lines, {report.pages} pages", file=sys.stderr)
    print(report.path)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    import shlex

    from crawler.cli.demo import run_demo

    code = run_demo(archive=args.archive, sources_path=args.sources, articles=args.articles, seed=args.seed)
    if code == EXIT_OK:
        try:
            found = default_archive("search", quiet=True)
        except CrawlerError:
            found = None
        where = "" if found is not None and found.resolve() == args.archive.resolve() \
            else f" --archive {shlex.quote(str(args.archive))}"
        steps = [(f"crawler search{where} 'Cần Thơ'", "full-text search, best first"),
                 (f"crawler stats{where}", "each paper's figures on the terminal"),
                 (f"crawler report{where} -o report.html", "the same as one HTML page with charts")]
        width = max(len(command) for command, _ in steps)
        for n, (command, what) in enumerate(steps):
            print(f"{'next:' if n == 0 else '':5} {command:{width}}  # {what}")
    return code



def _selection(args: argparse.Namespace) -> Selection:
    from crawler.archive.reading import Selection

    if args.since is not None and args.until is not None and args.until <= args.since:
        raise ConfigError(f"--until {args.until.date()} is before --since {args.since.date()}: nothing to select")
    return Selection(sources=tuple(dict.fromkeys(args.only)), since=args.since, until=args.until,
                     all_versions=args.all_versions)


def cmd_search(args: argparse.Namespace) -> int:

    from crawler.archive import jsonlines
    from crawler.archive.lock import ArchiveBusy
    from crawler.archive.reading import check_sources, read_archive
    from crawler.use.search import MARK_END, MARK_START, search

    selection = _selection(args)
    try:
        with read_archive(args.archive, wait=args.wait) as store:
            check_sources(store, selection.sources, args.sources)
            hits = search(store, args.query, selection, args.limit, rank_all=args.rank_all, offset=args.offset)
    except ArchiveBusy as err:
        _error(err)
        return EXIT_BUSY
    if args.json:
        print(jsonlines.dumps({"query": args.query, "ranked": "all" if hits.window is None else hits.window,
                               "total": hits.total, "offset": hits.offset,
                               "readings": {typed: reading for typed, reading in hits.readings},
                               "hits": [hit.as_dict() for hit in hits]}))
        return EXIT_OK
    if hits.window is not None:
        print(f"more than {hits.window:,} articles match: the {hits.window:,} most recently archived were ranked "
              f"(--rank-all ranks every match)", file=sys.stderr)
    for typed, reading in hits.readings:
        print(f"{typed!r}: {reading!r} first (the archive's most common writing; type diacritics to choose)",
              file=sys.stderr)
    if not hits:
        print(f"no match for {args.query!r}" if not hits.total else
              f"{hits.total:,} match(es) for {args.query!r}, none from --offset {hits.offset}", file=sys.stderr)
        return EXIT_OK
    last = hits.offset + len(hits)
    more = f" (--offset {last} for the next)" if last < hits.total else ""
    print(f"{hits.offset + 1}-{last} of {hits.total:,} match(es){more}", file=sys.stderr)
    from rich.markup import escape

    def shown(value: object) -> str:
        return escape(printable(value))

    console = pipe_console(file=raw(sys.stdout), highlight=False, soft_wrap=True)
    for n, hit in enumerate(hits, hits.offset + 1):
        version = f" v{hit.version}" if hit.version > 1 else ""
        console.print(f"[bold]{n}. {shown(hit.title)}[/bold]  [dim]{shown(hit.source)} {shown(hit.article_id)}"
                      f"{version} {shown(hit.published[:16].replace('T', ' '))}[/dim]")
        console.print(f"   {shown(hit.url)}")
        console.print(f"   {shown(args.archive / hit.text_path)}")
        marked = shown(hit.snippet)
        if console.is_terminal:  # elsewhere the « » marks stay
            marked = marked.replace(MARK_START, "[bold yellow]").replace(MARK_END, "[/bold yellow]")
        console.print(f"   {marked}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    import time

    from crawler.archive.lock import ArchiveBusy
    from crawler.archive.reading import check_sources, read_archive
    from crawler.use.export import export, format_for

    fmt = format_for(args.output, args.format)
    if args.output != "-":
        check_output(Path(args.output), "-o")
    selection = _selection(args)
    clock = time.monotonic()
    try:
        with read_archive(args.archive, wait=args.wait) as store:
            check_sources(store, selection.sources, args.sources)
            summary = export(store, selection, fmt, args.output, csv_raw=args.csv_raw)
    except ArchiveBusy as err:
        _error(err)
        return EXIT_BUSY
    where = "standard output" if args.output == "-" else args.output
    versions = f" ({summary.rows} versions)" if selection.all_versions else ""
    print(f"export: {summary.articles} articles{versions} to {where} as {fmt}, {time.monotonic() - clock:.1f} s",
          file=sys.stderr)
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    import json

    from crawler.use.sources import check_pages, describe, effective, render

    sources = read_sources(args)  # an invalid file: ConfigError, exit 2
    if args.only:
        sources = sources.only(args.only)
    if args.fetch and not args.check:
        raise ConfigError("--fetch goes with --check")
    data = [describe(s, effective(s, delay=args.delay, host_concurrency=args.host_concurrency)) for s in sources]
    checks = check_pages(sources, everywhere=args.fetch, timeout=args.timeout, delay=args.delay) \
        if args.check and (args.origin or args.fetch) else []
    failed = [c for c in checks if not c.ok]
    if args.json:
        for item in data:
            item["checks"] = [{"url": c.url, "ok": c.ok, "detail": c.detail} for c in checks
                              if c.source == item["key"]] if checks else None
        print(json.dumps({"sources_file": str(args.sources) if args.sources else None, "sources": data,
                          "ok": not failed}, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(render(item) for item in data))
    if args.check:
        for check in failed:
            print(f"crawler: {check.source}: {printable(check.url)}: {printable(check.detail)}", file=sys.stderr)
        tried = [c for c in checks if c.checked]
        pages = f"; {len(tried) - len(failed)} of {len(tried)} start pages and feeds answered" if tried else ""
        print(f"sources: {len(data)} source(s) valid{pages}", file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK


def _health(args: argparse.Namespace) -> Health:
    from crawler.archive.reading import read_archive
    from crawler.use.health import collect

    names = {source.key: source.name for source in load_sources(args.sources)}
    with read_archive(args.archive, wait=args.wait) as store:
        return collect(store, days=args.days, names=names)


def cmd_report(args: argparse.Namespace) -> int:
    from crawler.archive.catalog import atomic_write
    from crawler.archive.lock import ArchiveBusy
    from crawler.use.report import render

    check_output(args.output, "-o")
    try:
        health = _health(args)
    except ArchiveBusy as err:
        _error(err)
        return EXIT_BUSY
    try:
        atomic_write(args.output, render(health).encode("utf-8"), durable=False)
    except OSError as err:
        _error(f"cannot write {args.output}: {err.strerror or err}")
        return EXIT_FAILED
    print(f"report: {args.output} ({len(health.sources)} sources, {len(health.runs)} runs in {args.days} days)",
          file=sys.stderr)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    import json

    from crawler.archive.lock import ArchiveBusy
    from crawler.use.stats import print_stats

    try:
        health = _health(args)
    except ArchiveBusy as err:
        _error(err)
        return EXIT_BUSY
    if args.json:
        print(json.dumps(health.as_dict(), ensure_ascii=False, indent=1))
    else:
        print_stats(health)
    return EXIT_OK
