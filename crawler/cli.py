"""Command line: argv, logging and output; the only reader of argv and the environment.

Exit codes: 0 success; 1 the requested work failed (HTTP failure, not an article,
extraction failure, archive error); 2 bad usage or configuration (unknown source,
invalid sources.yaml).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import trio

from crawler import USER_AGENT, __version__
from crawler.config import Sources, load_sources
from crawler.errors import ConfigError, CrawlerError, UnknownSourceError
from crawler.normalize import VN_TZ

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, UnknownSourceError) as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_USAGE
    except CrawlerError as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("crawler: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler", description="Crawl and archive Vietnamese provincial news portals."
    )
    parser.add_argument("--version", action="version", version=f"crawler {__version__} ({USER_AGENT})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, archive: bool = True) -> None:
        p.add_argument("--sources", type=Path, default=None, help="sources file (default: ./sources.yaml)")
        p.add_argument("--origin", action="append", default=[], metavar="HOST=URL",
                       help="serve HOST from another origin, e.g. baocantho.com.vn=http://127.0.0.1:8080")
        if archive:
            p.add_argument("--archive", type=Path, default=Path("archive"), help="archive directory (default: archive)")

    p = sub.add_parser("parse", help="print the snapshot of a saved page, or with --listing its article URLs "
                                     "(no network)")
    common(p, archive=False)
    p.add_argument("--url", required=True, help="the page's URL (chooses the source and adapter)")
    p.add_argument("--listing", action="store_true",
                   help="the page is a listing or home page: print its article URLs, one per article id, in page "
                        "order (the next page's URL goes to stderr)")
    p.add_argument("--json", action="store_true",
                   help='print JSON: {"articles": [...], "next": ...} with --listing, else the article\'s fields')
    p.add_argument("file", type=Path, help="saved HTML file")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("fetch", help="archive one article: WARC + snapshot + catalog row")
    common(p)
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=30.0)
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("crawl", help="the incremental crawl (what cron runs)")
    common(p)
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="crawl only this source (repeatable)")
    p.add_argument("--max-articles", type=int, default=None, help="at most N new articles per source")
    p.add_argument("--since", type=_date, default=None, help="skip articles published before DATE (YYYY-MM-DD)")
    p.add_argument("--refresh", action="store_true", help="re-fetch archived articles (revisit or new version)")
    p.add_argument("--wait", action="store_true", help="wait for another run on the archive instead of exiting")
    p.add_argument("--quiet", action="store_true", help="no output unless something is wrong (for cron)")
    p.add_argument("--log-json", action="store_true", help="log lines as JSON")
    p.add_argument("--no-progress", action="store_true", help="log lines even on a terminal")
    p.add_argument("--delay", type=float, default=None, help="seconds between requests to a host (all sources)")
    p.add_argument("--host-concurrency", type=int, default=None, help="requests in flight per host (all sources)")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight in all (default 16)")
    p.add_argument("--ignore-robots", action="store_true", help="do not fetch or obey robots.txt (mirror only!)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--warc-size", type=int, default=1_000_000_000, help="rotate WARC files at this size (bytes)")
    p.add_argument("--workers", type=_workers, default=None, metavar="N|auto",
                   help="processes that parse articles and write snapshots beside the crawl process: 0 parses "
                        "in the crawl process; auto (default) uses 1 when a host's delay is under 0.1 s "
                        "and the machine has 2+ CPUs, else 0")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("mirror", help="serve the offline mirror of the portals until interrupted")
    p.add_argument("--port", type=int, default=None, help="first port (one port per host, consecutive)")
    p.add_argument("--articles", type=int, default=60, help="generated articles per source (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--faults", default=None, metavar="SPEC",
                   help="inject faults, e.g. 'transient=0.2' or '503=0.05,reset=0.02,cp1258=0.1' (see README)")
    p.set_defaults(func=cmd_mirror)

    p = sub.add_parser("demo", help="archive the whole offline mirror, replay it, print a summary")
    p.add_argument("--archive", type=Path, default=Path("archive/demo"), help="default: archive/demo")
    p.add_argument("--sources", type=Path, default=None)
    p.add_argument("--articles", type=int, default=60, help="generated articles per source (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("verify", help="check that catalog, snapshot files and WARCs agree")
    p.add_argument("--archive", type=Path, default=Path("archive"), help="archive directory (default: archive)")
    p.add_argument("--quick", action="store_true", help="skip the WARC digest check (offsets are still read)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("replay", help="re-extract snapshots from WARC files, no network")
    common(p)
    p.add_argument("warcs", nargs="*", type=Path, help="WARC files (default: every closed WARC of the archive)")
    p.add_argument("--out", type=Path, default=None, help="write snapshots under DIR/text/<source>/...")
    p.add_argument("--jsonl", default=None, metavar="FILE|-", help="write one JSON object per article")
    p.add_argument("--source", default=None, help="source key for records on no configured host")
    p.set_defaults(func=cmd_replay)
    return parser


def read_sources(args: argparse.Namespace) -> Sources:
    sources = load_sources(args.sources)
    origins: dict[str, str] = {}
    for item in getattr(args, "origin", []):
        host, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--origin wants HOST=URL, got {item!r}")
        origins[host.strip().lower()] = url
    return sources.rebased(origins) if origins else sources


def cmd_parse(args: argparse.Namespace) -> int:
    import json

    from crawler.adapters import get_adapter
    from crawler.archiver import parse_response
    from crawler.models import ExtractionFailure
    from crawler.normalize import render_snapshot

    source = read_sources(args).for_url(args.url)
    try:
        data = args.file.read_bytes()
    except OSError as err:
        print(f"crawler: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return EXIT_FAILED
    adapter = get_adapter(source)
    if args.listing:
        listing = adapter.parse_listing(data, args.url)
        if not listing.article_urls:
            print(f"crawler: {args.file} lists no article of {source.key} (no link matches "
                  f"{source.article_url_pattern} on {', '.join(source.hosts)})", file=sys.stderr)
            return EXIT_FAILED
        if args.json:
            print(json.dumps({"articles": list(listing.article_urls), "next": listing.next_url}, ensure_ascii=False))
        else:
            sys.stdout.write("".join(f"{url}\n" for url in listing.article_urls))
            if listing.next_url:
                print(f"next: {listing.next_url}", file=sys.stderr)
        return EXIT_OK
    result = parse_response(adapter, data, None, args.url)
    if isinstance(result, ExtractionFailure):
        print(f"crawler: extraction failed: {result}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        fields = {"source": result.source, "article_id": result.article_id, "url": result.url,
                  "template": result.rules.get("template"), "snapshot": render_snapshot(result),
                  "rules": dict(result.rules)}
        print(json.dumps(fields, ensure_ascii=False))
        return EXIT_OK
    sys.stdout.write(render_snapshot(result) + "\n")
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from crawler.archiver import Archive, archive_article
    from crawler.fetcher import Fetcher, FetchPolicy

    sources = read_sources(args)
    source = sources.for_url(args.url)

    async def run() -> int:
        with Archive(args.archive, sources) as archive:
            async with Fetcher(FetchPolicy(timeout=args.timeout)) as fetcher:
                outcome = await archive_article(fetcher, archive, source, args.url)
        if not outcome.ok or outcome.snapshot is None:
            print(f"crawler: {outcome.status}: {outcome.message}", file=sys.stderr)
            return EXIT_FAILED
        print(outcome.snapshot.text_path)
        return EXIT_OK

    return trio.run(run)


def _date(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD or ISO 8601): {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def _workers(text: str) -> int | None:
    from crawler.workers import MAX_WORKERS

    if text == "auto":
        return None
    if not text.isdigit() or int(text) > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected auto or a number of processes 0..{MAX_WORKERS}, got {text!r}")
    return int(text)


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.crawl import CrawlOptions
    from crawler.run import RunSettings, crawl_command
    from crawler.workers import auto_workers

    sources = read_sources(args)
    if args.only:
        sources = Sources(tuple(sources.get(key) for key in args.only))
    for name in ("max_articles", "host_concurrency", "concurrency"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.delay is not None and args.delay < 0:
        raise ConfigError(f"--delay must not be negative, got {args.delay}")
    options = CrawlOptions(
        max_articles=args.max_articles, since=args.since, refresh=args.refresh,
        global_concurrency=args.concurrency, delay=args.delay, host_concurrency=args.host_concurrency,
        respect_robots=False if args.ignore_robots else None,
    )
    delays = [s.politeness.delay if args.delay is None else args.delay for s in sources]
    options.workers = auto_workers(delays) if args.workers is None else args.workers
    settings = RunSettings(archive=args.archive, wait=args.wait, quiet=args.quiet, log_json=args.log_json,
                           progress=False if args.no_progress else None, timeout=args.timeout,
                           warc_size=args.warc_size)
    return crawl_command(sources, options, settings)


def cmd_mirror(args: argparse.Namespace) -> int:
    from crawler.errors import MirrorError
    from crawler.mirror import serve

    try:
        serve(port=args.port, articles=args.articles, seed=args.seed, faults=args.faults)
    except MirrorError as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from crawler.replay import ReplayStats, replay, warc_files, write_outputs

    sources = read_sources(args)
    paths = list(args.warcs) or warc_files(args.archive)
    if not paths:
        print(f"crawler: no WARC files given and none in {args.archive / 'warc'}", file=sys.stderr)
        return EXIT_FAILED
    for path in paths:
        if not path.is_file():
            print(f"crawler: no such WARC file: {path}", file=sys.stderr)
            return EXIT_FAILED
    if args.out is None and args.jsonl is None:
        print("crawler: nothing to write: give --out DIR and/or --jsonl FILE|-", file=sys.stderr)
        return EXIT_USAGE
    stats = ReplayStats()
    items = replay(paths, sources, source_key=args.source, stats=stats)
    if args.jsonl == "-":
        write_outputs(items, out=args.out, jsonl=sys.stdout, stats=stats)
    elif args.jsonl is not None:
        with open(args.jsonl, "w", encoding="utf-8") as handle:
            write_outputs(items, out=args.out, jsonl=handle, stats=stats)
    else:
        write_outputs(items, out=args.out, jsonl=None, stats=stats)
    print(f"replay: {len(paths)} WARC file(s), {stats.responses} responses, {stats.articles} articles, "
          f"{len(stats.failures)} extraction failures, {stats.written} snapshots written", file=sys.stderr)
    for line in stats.failures[:20]:
        print(f"  failed: {line}", file=sys.stderr)
    return EXIT_OK if not stats.failures else EXIT_FAILED


def cmd_verify(args: argparse.Namespace) -> int:
    from crawler.verify import verify

    report = verify(args.archive, check_digests=not args.quick)
    for problem in report.problems:
        print(problem)
    verdict = "OK" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"verify: {args.archive}: {report.warcs} WARC files, {report.snapshots} snapshots: {verdict}",
          file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo import run_demo

    return run_demo(archive=args.archive, sources_path=args.sources, articles=args.articles, seed=args.seed)

