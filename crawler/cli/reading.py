"""``crawler export`` and ``crawler search``: the archived articles for the people who use them, selected
by source, publication dates and versions.

Part of the command line (:mod:`crawler.cli`); the work is :mod:`crawler.use.export` and
:mod:`crawler.use.search`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.archive.outputs import check_output
from crawler.cli import argtypes
from crawler.cli.common import EXIT_BUSY, EXIT_OK, SOURCES_HELP, add_reading_options, print_error
from crawler.errors import ConfigError
from crawler.terminal import pipe_console, plural, printable, raw

if TYPE_CHECKING:
    from crawler.archive.reading import Selection


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands that read the articles: export, search."""
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
    p.add_argument("--dedup", action="store_true",
                   help="add a duplicate_of column: the URL of the earliest article (any paper) this one nearly "
                        "repeats, null for originals (MinHash over 5-word shingles, whole archive)")
    p.add_argument("--dedup-threshold", type=argtypes.fraction, default=None, metavar="J",
                   help="the Jaccard similarity from which two articles are near-duplicates, 0 < J <= 1 (default "
                        "0.5); implies --dedup")
    add_reading_options(p)
    add_selection_options(p, versions="one row per version of each article (default: the latest version only)")
    p.set_defaults(func=cmd_export)

    from crawler.use.search_limits import MAX_LIMIT, RANK_WINDOW

    p = sub.add_parser("search", help="full-text search over titles, sapos and bodies",
                       description="Search the archive's full-text index (SQLite FTS5). Words typed without "
                                   "diacritics match every writing ('tin tuc' finds 'tin tức'); typed with them, "
                                   "those diacritics ('Cần Thơ' is not 'cán thổ'). \"a phrase\", prefix*, AND, OR, "
                                   "NOT or -word (also alone), parentheses, title:word. Words typed together rank "
                                   "as a phrase ('da nang' puts 'Đà Nẵng' first), then bm25.")
    # Optional to argparse only: a query read as options (-word) is refused with its own message
    # (crawler.cli.query_read_as_options); the usage line below shows it as the required argument it is.
    p.add_argument("query", nargs="?", default=None,
                   help="what to look for (quote it for the shell; one starting with '-' after --: "
                        "crawler search -- '-word')")
    add_reading_options(p)
    add_selection_options(p, versions="also match older versions of changed articles (default: the latest only)")
    p.add_argument("--limit", type=argtypes.integer(1, MAX_LIMIT), default=20, metavar="N",
                   help=f"at most N hits, 1..{MAX_LIMIT} (default 20)")
    p.add_argument("--offset", type=argtypes.integer(0, 10_000_000), default=0, metavar="N",
                   help="skip the N best hits (paging: the count of all matches goes to stderr)")
    p.add_argument("--rank-all", action="store_true",
                   help=f"rank every match (default: a query matching more than {RANK_WINDOW:,} articles ranks the "
                        f"{RANK_WINDOW:,} most recently archived, which keeps it fast)")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.usage = p.format_usage().removeprefix("usage: ").replace(" [query]", " query").rstrip("\n")
    p.set_defaults(func=cmd_search)


def add_selection_options(p: argparse.ArgumentParser, *, versions: str) -> None:
    """Which articles: ``--source``, ``--since``, ``--until``, ``--all-versions`` (its help: ``versions``)."""
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="only this source (repeatable)")
    p.add_argument("--since", type=argtypes.date, default=None, metavar="DATE",
                   help="only articles published at or after DATE (YYYY-MM-DD or ISO 8601; Vietnamese time)")
    p.add_argument("--until", type=argtypes.until, default=None, metavar="DATE",
                   help="only articles published up to and including DATE")
    add_capture_options(p, "only versions")
    p.add_argument("--all-versions", action="store_true", help=versions)
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP + " (to check --source keys)")


def add_capture_options(p: argparse.ArgumentParser, what: str) -> None:
    """``--captured-since``/``--captured-until``: the capture time (``what``: what they select), parsed as
    ``--since``/``--until`` (a day counts whole, an ISO time to the second, both ends included)."""
    p.add_argument("--captured-since", type=argtypes.date, default=None, metavar="DATE",
                   help=f"{what} captured at or after DATE (capture time, not publication; YYYY-MM-DD or ISO "
                        f"8601; Vietnamese time if no zone)")
    p.add_argument("--captured-until", type=argtypes.until, default=None, metavar="DATE",
                   help=f"{what} captured up to and including DATE (a day counts whole)")


def _selection(args: argparse.Namespace) -> Selection:
    from crawler.archive.reading import Selection

    if args.since is not None and args.until is not None and args.until <= args.since:
        raise ConfigError(f"--until {args.until.date()} is before --since {args.since.date()}: nothing to select")
    if args.captured_since is not None and args.captured_until is not None and \
            args.captured_until <= args.captured_since:
        raise ConfigError(f"--captured-until {args.captured_until.date()} is before --captured-since "
                          f"{args.captured_since.date()}: nothing to select")
    return Selection(sources=tuple(dict.fromkeys(args.only)), since=args.since, until=args.until,
                     all_versions=args.all_versions, captured_since=args.captured_since,
                     captured_until=args.captured_until)


def cmd_search(args: argparse.Namespace) -> int:

    from crawler.archive import jsonlines
    from crawler.archive.lock import ArchiveBusy
    from crawler.archive.reading import check_sources, read_archive
    from crawler.use.search import search
    from crawler.use.snippets import MARK_END, MARK_START

    selection = _selection(args)
    try:
        with read_archive(args.archive, wait=args.wait) as store:
            check_sources(store, selection.sources, args.sources)
            hits = search(store, args.query, selection, args.limit, rank_all=args.rank_all, offset=args.offset)
    except ArchiveBusy as err:
        print_error(err)
        return EXIT_BUSY
    if hits.note:
        print(f"note: {hits.note}", file=sys.stderr)
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
              f"{plural(hits.total, 'match', 'matches')} for {args.query!r}, none from --offset {hits.offset}",
              file=sys.stderr)
        return EXIT_OK
    last = hits.offset + len(hits)
    more = f" (--offset {last} for the next)" if last < hits.total else ""
    print(f"{hits.offset + 1}-{last} of {plural(hits.total, 'match', 'matches')}{more}", file=sys.stderr)
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


def _dedup(args: argparse.Namespace) -> float | None:
    """The near-duplicate threshold of --dedup / --dedup-threshold, or None."""
    from crawler.use.dedup import THRESHOLD

    if args.dedup_threshold is not None:
        args.dedup = True
        return float(args.dedup_threshold)
    return THRESHOLD if args.dedup else None


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
            summary = export(store, selection, fmt, args.output, csv_raw=args.csv_raw, dedup=_dedup(args),
                             whole_process=getattr(args, "whole_process", False))
    except ArchiveBusy as err:
        print_error(err)
        return EXIT_BUSY
    where = "standard output" if args.output == "-" else args.output
    versions = f" ({summary.rows} versions)" if selection.all_versions else ""
    marked = f", {summary.duplicates} marked duplicate_of (threshold {_dedup(args)})" if args.dedup else ""
    print(f"export: {summary.articles} articles{versions} to {where} as {fmt}{marked}, "
          f"{time.monotonic() - clock:.1f} s", file=sys.stderr)
    return EXIT_OK
