"""``crawler crawl``, ``failed``, ``mirror`` and ``demo``: the crawl, what it could not archive, and the
offline mirror it can run against (the demo's work is :mod:`crawler.cli.demo`).

Part of the command line (:mod:`crawler.cli`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli import argtypes
from crawler.cli.common import (
    ARCHIVE_HELP,
    EXIT_FAILED,
    EXIT_OK,
    SOURCES_HELP,
    add_common_options,
    add_requisite_options,
    default_archive,
    read_sources,
)
from crawler.errors import CrawlerError
from crawler.terminal import plural, printable

# `crawler failed`: its columns, in order (the TSV header, the --json keys).
FAILED_COLUMNS = ("source", "article_id", "url", "attempts", "retried", "next_try", "last_error")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The crawl's commands: crawl, failed, mirror, demo."""
    p = sub.add_parser("crawl", help="the incremental crawl (what cron runs)")
    add_common_options(p)
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="crawl only this source (repeatable)")
    p.add_argument("--max-articles", type=argtypes.max_articles, default=None, metavar="N",
                   help="at most N new articles per source")
    p.add_argument("--since", type=argtypes.date, default=None, metavar="DATE",
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
    add_requisite_options(p, what="each page's")
    p.add_argument("--max-requisites", type=argtypes.integer(1, 10_000_000), default=10_000, metavar="N",
                   help="at most N requisites in the run, 1..10,000,000 (default 10,000)")
    p.add_argument("--max-requisite-bytes", type=argtypes.byte_size, default=1_000_000_000, metavar="BYTES",
                   help="at most this many bytes of requisites in the run (default 1G)")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("failed", help="list the articles that failed, why, and when they are tried again")
    p.add_argument("--archive", type=argtypes.archive_dir, default=None, help=ARCHIVE_HELP)
    p.add_argument("--source", default=None, metavar="KEY", help="only this source")
    p.add_argument("--json", action="store_true",
                   help="JSON Lines: one object per article, the keys of the header line")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("mirror", help="serve the offline mirror of the portals until interrupted")
    p.add_argument("--port", type=argtypes.port, default=None,
                   help="first port (one port per host, consecutive; default: free ports)")
    p.add_argument("--articles", type=argtypes.mirror_articles, default=60, metavar="N",
                   help=f"generated articles per source, 1..{argtypes.MAX_MIRROR_ARTICLES} (default 60)")
    p.add_argument("--seed", type=int, default=1, metavar="N",
                   help="seed of the generated articles: the same seed, the same mirror (default 1)")
    p.add_argument("--faults", default=None, metavar="SPEC",
                   help="inject faults, e.g. 'transient=0.2' or '503=0.05,reset=0.02,cp1258=0.1' (see README)")
    p.set_defaults(func=cmd_mirror)

    p = sub.add_parser("demo", help="archive the whole offline mirror, replay it, print a summary")
    p.add_argument("--archive", type=argtypes.archive_dir, default=Path("archive/demo"),
                   help="default: archive/demo")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.add_argument("--articles", type=argtypes.mirror_articles, default=60, metavar="N",
                   help=f"generated articles per source, 1..{argtypes.MAX_MIRROR_ARTICLES} (default 60)")
    p.add_argument("--seed", type=int, default=1, metavar="N",
                   help="seed of the mirror's generated articles (default 1)")
    p.set_defaults(func=cmd_demo)


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



def cmd_failed(args: argparse.Namespace) -> int:
    """A header line, then one tab-separated line per article (``--json``: one object each, the same keys)."""
    from crawler.archive import jsonlines
    from crawler.archive.catalog import Store

    with Store(args.archive, readonly=True) as store:
        failed = store.failed(args.source)
    if not args.json:
        print("\t".join(FAILED_COLUMNS))
    for item in failed:
        record = {"source": item.source, "article_id": item.article_id, "url": item.url, "attempts": item.attempts,
                  "retried": "on schedule" if item.failed else "next run", "next_try": item.next_try,
                  "last_error": item.last_error}
        if args.json:
            print(jsonlines.dumps(record))
        else:
            print("\t".join(printable("" if record[key] is None else record[key]) for key in FAILED_COLUMNS))
    if not args.json:
        print(f"failed: {plural(len(failed), 'article')} not archived after failing", file=sys.stderr)
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
