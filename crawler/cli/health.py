"""``crawler report`` and ``crawler stats``: the archive's health (per source: articles per day, failures,
runs, templates), as one HTML file or on the terminal.

Part of the command line (:mod:`crawler.cli`); the figures are :mod:`crawler.use.health`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.archive.outputs import check_output
from crawler.cli import argtypes
from crawler.cli.common import EXIT_BUSY, EXIT_FAILED, EXIT_OK, SOURCES_HELP, add_reading_options, print_error
from crawler.config import load_sources

if TYPE_CHECKING:
    from crawler.use.health import Health


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands of the archive's health: report, stats."""
    p = sub.add_parser("report", help="the archive's health as one self-contained HTML file with charts",
                       description="Per source: articles archived per day, failures per run, run durations, the last "
                                   "article, the frontier and permanently failed URLs, the share of pages per "
                                   "template and per extraction rule. One HTML file, no network needed to open it.")
    p.add_argument("-o", "--output", type=Path, default=Path("report.html"), metavar="FILE",
                   help="where to write it (default: report.html)")
    add_reading_options(p)
    p.add_argument("--days", type=argtypes.integer(1, 3660), default=30, metavar="N",
                   help="days the charts cover, 1..3660 (default 30)")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP + " (for the newspapers' names)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("stats", help="the report's figures as a table on the terminal")
    add_reading_options(p)
    p.add_argument("--days", type=argtypes.integer(1, 3660), default=30, metavar="N",
                   help="days of runs and charts considered, 1..3660 (default 30)")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP + " (for the newspapers' names)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--dedup", action="store_true",
                   help="count near-duplicates even when more than 2,000 articles are new since the last count "
                        "(without it they show as pending; 10,000 take 15-50 s, cached after)")
    p.set_defaults(func=cmd_stats)


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
        print_error(err)
        return EXIT_BUSY
    try:
        atomic_write(args.output, render(health).encode("utf-8"), durable=False)
    except OSError as err:
        print_error(f"cannot write {args.output}: {err.strerror or err}")
        return EXIT_FAILED
    from crawler.terminal import plural
    from crawler.use.report import listed

    print(f"report: {args.output} ({plural(len(listed(health)), 'source')} with data, "
          f"{plural(len(health.runs), 'run')} in {plural(args.days, 'day')})", file=sys.stderr)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    import json

    from crawler.archive.lock import ArchiveBusy
    from crawler.archive.reading import read_archive
    from crawler.use.stats import near_duplicates, print_stats

    try:
        health = _health(args)
        with read_archive(args.archive, wait=args.wait) as store:
            duplicates = near_duplicates(store, everything=args.dedup)
    except ArchiveBusy as err:
        print_error(err)
        return EXIT_BUSY
    if args.json:
        print(json.dumps({**health.as_dict(), "near_duplicates": duplicates.per_source,
                          "near_duplicates_pending": duplicates.pending}, ensure_ascii=False, indent=1))
    else:
        note = duplicates.note()
        print_stats(health, width=terminal_width(), duplicates=duplicates.per_source,
                    notes=(note,) if note else ())
    return EXIT_OK


def terminal_width() -> int | None:
    """``$COLUMNS``, else the terminal's width; ``None`` when stdout is not a terminal (one row per source)."""
    import shutil

    return shutil.get_terminal_size(fallback=(0, 0)).columns or None
