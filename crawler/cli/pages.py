"""``crawler parse`` and ``crawler fetch``: one page, saved (parsed, no network) or fetched and archived.

Part of the command line (:mod:`crawler.cli`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli import argtypes
from crawler.cli.common import EXIT_FAILED, EXIT_OK, add_common_options, add_requisite_options, read_sources
from crawler.terminal import printable


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands of one page: parse, fetch."""
    p = sub.add_parser("parse", help="print the snapshot of a saved page, or with --listing its article URLs "
                                     "(no network)")
    add_common_options(p, archive=False)
    p.add_argument("--url", required=True, type=argtypes.http_url,
                   help="the page's URL (chooses the source and adapter)")
    p.add_argument("--listing", action="store_true",
                   help="the page is a listing or home page: print its article URLs, one per article id, in page "
                        "order (the next page's URL goes to stderr)")
    p.add_argument("--json", action="store_true",
                   help='print JSON: {"articles": [...], "next": ...} with --listing, else the article\'s fields')
    p.add_argument("file", type=Path, help="saved HTML file, or - to read the page from stdin")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("fetch", help="archive one article: WARC + snapshot + catalog row")
    add_common_options(p)
    p.add_argument("url", type=argtypes.http_url, help="the article's URL (its source must be configured)")
    p.add_argument("--refresh", action="store_true",
                   help="fetch an archived article again (conditional request: a revisit record, or a new version)")
    p.add_argument("--timeout", type=argtypes.timeout, default=30.0, metavar="S",
                   help=f"seconds per request, more than 0, at most {argtypes.MAX_TIMEOUT:g} (default 30)")
    add_requisite_options(p, what="the page's")
    p.add_argument("--delay", type=argtypes.delay, default=None, metavar="S",
                   help=f"seconds between two requisites from one host, 0..{argtypes.MAX_DELAY:g} (default: the "
                        "source's politeness.delay)")
    p.set_defaults(func=cmd_fetch)


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
    stdin = str(args.file) == "-"  # a file named "-" is ./-
    if stdin:
        args.file = "stdin"
    try:
        if stdin:
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(args.file, "rb") as handle:
                data = handle.read(limit + 1)
    except OSError as err:
        print(f"crawler: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return EXIT_FAILED
    if stdin and not data:
        print("crawler: stdin is empty: nothing to parse (crawler parse --url URL - < page.html)", file=sys.stderr)
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
    from crawler.crawl.requisites import page_requisites
    from crawler.models import WarcLocation
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
                if args.requisites and outcome.ok:
                    page = outcome.response
                    cached = archive.store.cached(page.url if page is not None else url)
                    recorded = None if cached is None else WarcLocation(cached.warc_file, cached.warc_offset)
                    got = await page_requisites(fetcher, archive.store, source, url, page, recorded,
                                                delay=args.delay, per_page=args.requisites_per_page,
                                                page_bytes=args.requisite_page_bytes, warc_size=archive.warc_size,
                                                gzip_level=archive.gzip_level)
                    print(f"crawler: requisites: {got.requisites} archived ({got.requisites_not_modified} not "
                          f"modified, {got.requisite_bytes:,} bytes), {got.requisites_failed} failed"
                          + (f", {got.requisites_capped} over a cap" if got.requisites_capped else "")
                          + (f", {got.requisites_unserved} on hosts no --origin serves"
                             if got.requisites_unserved else ""), file=sys.stderr)
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
