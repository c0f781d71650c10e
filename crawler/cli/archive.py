"""``crawler verify``, ``index`` and ``wacz``: keeping the archive itself (its checks, its derived indexes,
its packaging for ReplayWeb.page).

Part of the command line (:mod:`crawler.cli`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.archive.outputs import check_output
from crawler.cli import argtypes
from crawler.cli.common import ARCHIVE_HELP, EXIT_BUSY, EXIT_FAILED, EXIT_OK, SOURCES_HELP, read_sources
from crawler.terminal import plural


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The archive's own commands: verify, index, wacz."""
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
                   help="only the records captured at or after DATE (capture time, as for export and search; "
                        "YYYY-MM-DD or ISO 8601; Vietnamese time if no zone): each WARC file is cut by record, "
                        "keeping the originals its revisits need")
    p.add_argument("--captured-until", type=argtypes.until, default=None, metavar="DATE",
                   help="only the records captured up to and including DATE (a day counts whole, a time to "
                        "the second)")
    p.add_argument("--title", default=None, help="the package's title")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.set_defaults(func=cmd_wacz)


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
    verdict = "OK" if report.ok else plural(len(report.problems), "problem")
    print(f"verify: {args.archive}: {report.warcs} WARC files, {report.snapshots} snapshots: {verdict}",
          file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED



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
    # The last moment included: argtypes.until gives the first one left out.
    until = None if args.captured_until is None else args.captured_until - timedelta(microseconds=1)
    if args.captured_since is not None and args.captured_until is not None and \
            args.captured_until <= args.captured_since:
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
        print(f"crawler: indexed {plural(len(report.indexed_now), 'WARC file')} that had no index yet, for this "
              f"package only (`crawler index` keeps them)", file=sys.stderr)
    print(f"wacz: {report.path}: {report.warcs} WARC files ({report.warc_bytes:,} bytes), "
          f"{report.index_lines} index lines, {report.pages} pages", file=sys.stderr)
    print(report.path)
    return EXIT_OK
